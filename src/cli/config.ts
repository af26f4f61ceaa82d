import { accessSync, constants } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { stringify } from 'smol-toml'
import { redactConfig } from '../config/redact.js'
import type { Config } from '../config/schema.js'
import { warnUnkeyedAudit } from './audit.js'
import { type CliIo, loadCliConfig, printJson, println, warnUnknownEnv } from './context.js'
import { CliError } from './exit-codes.js'

/** Files the config names that must be readable at start, by key. */
function fileProblems(config: Config, cwd: string): string[] {
  const files: [string, string | undefined][] = [
    ['jwt.private_key_file', config.jwt.private_key_file],
    ['tls.cert_path', config.tls.cert_path],
    ['tls.key_path', config.tls.key_path],
  ]
  const problems: string[] = []
  for (const [key, path] of files) {
    if (path === undefined) continue
    try {
      accessSync(resolve(cwd, path), constants.R_OK)
    } catch {
      problems.push(`${key}: cannot read ${path}`)
    }
  }
  return problems
}

/** Registers `config check|print` (SPEC §2). */
export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program.command('config').description('inspect the effective configuration')

  config
    .command('check')
    .description(
      'validate the configuration (file, USERS_CORE_* variables, flags); exits 1 naming every bad key',
    )
    .action((_opts: unknown, command: Command) => {
      const loaded = loadCliConfig(command, io)
      // A mistyped variable silently does nothing, which is exactly what `check` is for.
      const problems = [
        ...loaded.unknownEnv.map((name) => `${name}: unknown environment variable`),
        ...fileProblems(loaded.config, io.cwd),
      ]
      if (problems.length > 0) throw new CliError(`invalid configuration: ${problems.join('; ')}`)
      warnUnkeyedAudit(loaded.config, io)
      println(io.stdout, `config ok (source: ${loaded.file ?? 'defaults'})`)
    })

  config
    .command('print')
    .description('print the effective configuration as TOML, secrets redacted')
    .option('--json', 'print the [users_core] table as JSON instead')
    .action((opts: { json?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command, io)
      warnUnknownEnv(loaded, io)
      const redacted = redactConfig(loaded.config)
      if (opts.json) return printJson(io.stdout, redacted)
      println(
        io.stdout,
        `# effective configuration (source: ${loaded.file ?? 'defaults'}); secrets redacted`,
      )
      io.stdout.write(`${stringify({ users_core: redacted })}\n`)
    })
}
