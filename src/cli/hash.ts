import type { Command } from 'commander'
import { type CliIo, loadCliConfig, println } from './context.js'
import { parseCount } from './user.js'

interface CalibrateOptions {
  targetMs: number
  maxMemoryKib?: number
  parallelism?: number
}

/** Registers `hash calibrate`: measures Argon2id here and suggests `[users_core.password]`. */
export function registerHashCommands(program: Command, io: CliIo): void {
  const hash = program.command('hash').description('password hashing')

  hash
    .command('calibrate')
    .description('measure Argon2id on this machine and suggest parameters for a target duration')
    .requiredOption('--target-ms <n>', 'wanted duration of one hash, in milliseconds', parseCount)
    .option('--max-memory-kib <n>', 'memory ceiling per hash in KiB (default 262144)', parseCount)
    .option(
      '--parallelism <n>',
      'lanes per hash (default: password.argon2_parallelism of the config)',
      parseCount,
    )
    .action(async (opts: CalibrateOptions, command: Command) => {
      const { config } = loadCliConfig(command, io)
      const { calibrateArgon2 } = await import('../passwords/calibrate.js')
      io.stderr.write('measuring Argon2id (takes a few seconds)...\n')
      const result = await calibrateArgon2({
        targetMs: opts.targetMs,
        parallelism: opts.parallelism ?? config.password.argon2_parallelism,
        ...(opts.maxMemoryKib !== undefined ? { maxMemoryKiB: opts.maxMemoryKib } : {}),
      })
      println(
        io.stdout,
        `# one hash took ${result.measuredMs.toFixed(1)} ms here (target ${opts.targetMs} ms)`,
      )
      println(io.stdout, '[users_core.password]')
      println(io.stdout, `argon2_memory_cost = ${result.memoryCost}`)
      println(io.stdout, `argon2_time_cost = ${result.timeCost}`)
      println(io.stdout, `argon2_parallelism = ${result.parallelism}`)
    })
}
