import { once } from 'node:events'
import { chmod, open } from 'node:fs/promises'
import type { Command } from 'commander'
import type { UsersCore } from '../types.js'
import { type CliIo, loadCliConfig, println, withCore } from './context.js'
import { CliError } from './exit-codes.js'

/** Writes every user as one JSON line to `out`, respecting backpressure; returns the count. */
export async function writeUsers(core: UsersCore, out: NodeJS.WritableStream): Promise<number> {
  let count = 0
  for await (const user of core.users.exportAll()) {
    if (!out.write(`${JSON.stringify(user)}\n`)) await once(out, 'drain')
    count++
  }
  return count
}

/** Registers `export FILE`: every user with their hash, as JSON lines `import` reads back. */
export function registerExportCommand(program: Command, io: CliIo): void {
  program
    .command('export')
    .summary('export every user with their hash as JSON lines')
    .description(
      'export every user with their password hash as JSON lines (the file is created with mode 0600)',
    )
    .argument('<file>', "where to write, or '-' for standard output")
    .option('--force', 'overwrite FILE if it exists')
    .action(async (file: string, opts: { force?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command, io)
      if (file === '-') {
        const count = await withCore(loaded, io, (core) => writeUsers(core, io.stdout))
        io.stderr.write(`exported ${count} users\n`)
        return
      }
      // The file holds password hashes: never let it exist with wider permissions, even briefly.
      let handle: Awaited<ReturnType<typeof open>>
      try {
        handle = await open(file, opts.force ? 'w' : 'wx', 0o600)
        if (opts.force) await chmod(file, 0o600)
      } catch (error) {
        const err = error as NodeJS.ErrnoException
        if (err.code === 'EEXIST') throw new CliError(`${file} exists (use --force to overwrite)`)
        throw new CliError(`cannot write ${file}: ${err.message}`)
      }
      const out = handle.createWriteStream()
      try {
        const count = await withCore(loaded, io, (core) => writeUsers(core, out))
        out.end()
        await once(out, 'close')
        println(io.stdout, `exported ${count} users to ${file}`)
      } catch (error) {
        out.destroy()
        throw error
      }
    })
}
