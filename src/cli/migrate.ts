import type { Command } from 'commander'
import { type CliIo, loadCliConfig, println, withCore } from './context.js'

/** Registers `migrate`: brings the database schema up to date and says what ran. */
export function registerMigrateCommand(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('create or upgrade the database schema (serve does this too)')
    .action(async (_opts: unknown, command: Command) => {
      await withCore(loadCliConfig(command, io), io, async (core) => {
        const { applied, alreadyApplied } = core.migrations
        for (const name of applied) println(io.stdout, `applied: ${name}`)
        if (alreadyApplied.length > 0) {
          println(io.stdout, `already applied: ${alreadyApplied.join(', ')}`)
        }
        println(
          io.stdout,
          applied.length > 0
            ? `database migrated (${applied.length} applied)`
            : 'database is up to date',
        )
      })
    })
}
