import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { isUsersError } from '../errors.js'
import { registerAuditCommands } from './audit.js'
import { registerConfigCommands } from './config.js'
import type { CliIo, CliState } from './context.js'
import { CliError, EXIT_ERROR, EXIT_OK, EXIT_USAGE } from './exit-codes.js'
import { registerExportCommand } from './export.js'
import { registerHashCommands } from './hash.js'
import { registerImportCommand } from './import.js'
import { registerKeysCommands } from './keys.js'
import { registerMigrateCommand } from './migrate.js'
import { registerServeCommand } from './serve.js'
import { registerSipCommands } from './sip.js'
import { registerUserCommands } from './user.js'
import { registerUserMfaCommand } from './user-mfa.js'

// package.json is two levels up from both src/cli and dist/cli.
const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
})()

/** Collapses a message to one line, as every CLI error is reported. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** Commander's `error: unknown option '--x'` becomes `users-core: unknown option '--x'`. */
function formatUsageError(text: string): string {
  return `users-core: ${oneLine(text.replace(/^error:\s*/, ''))}\n`
}

/** The one-line reason for an error: a UsersError's message (with its field problems). */
export function describeError(error: unknown): string {
  if (isUsersError(error)) {
    const fields = (error.details as { fields?: { field?: unknown; message?: unknown }[] } | null)
      ?.fields
    const extra = Array.isArray(fields)
      ? fields
          .filter((f) => typeof f.message === 'string' && !error.message.includes(f.message))
          .map((f) => `${String(f.field)}: ${String(f.message)}`)
      : []
    return oneLine(extra.length > 0 ? `${error.message} (${extra.join('; ')})` : error.message)
  }
  if (error instanceof Error) return oneLine(error.message || error.name)
  return oneLine(String(error))
}

/**
 * Builds the `users-core` command tree over `io`. Usage errors throw CommanderError (exitOverride)
 * after printing one `users-core: ...` line; `state` collects what the commands decide.
 */
export function createProgram(io: CliIo, state: CliState): Command {
  const program = new Command('users-core')
  program
    .description('users-core: user accounts, JWT access tokens and API keys for RVoIP')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand('help [command]', 'show help for a command')
    .option(
      '-c, --config <path>',
      'TOML config file (default: $USERS_CORE_CONFIG, else ./users_core.toml when present)',
    )
    .option(
      '--database-url <url>',
      'database to use (database_url): sqlite://PATH or postgres://...',
    )
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(formatUsageError(s)),
    })
    .showSuggestionAfterError(true)
    .exitOverride()
  // Subcommands copy the settings above when created with .command(), so register after them.
  registerServeCommand(program, io, state)
  registerMigrateCommand(program, io)
  registerUserMfaCommand(registerUserCommands(program, io), io)
  registerKeysCommands(program, io)
  registerSipCommands(program, io)
  registerConfigCommands(program, io)
  registerAuditCommands(program, io, state)
  registerImportCommand(program, io)
  registerExportCommand(program, io)
  registerHashCommands(program, io)
  return program
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code, or
 * `undefined` when the command keeps running (`serve`) and its signal handlers own the exit.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number | undefined> {
  const state: CliState = { exitCode: EXIT_OK, detached: false }
  const program = createProgram(io, state)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return state.detached ? undefined : state.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version requested explicitly are successes; every other parse failure is usage.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
        return EXIT_OK
      }
      return EXIT_USAGE
    }
    io.stderr.write(`users-core: ${describeError(error)}\n`)
    return error instanceof CliError ? error.exitCode : EXIT_ERROR
  }
}
