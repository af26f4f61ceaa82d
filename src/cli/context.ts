import type { Command } from 'commander'
import { type LoadedConfig, loadConfig } from '../config/load.js'
import { createLogger, type Logger } from '../lib/logger.js'
import type { RequestContext, UsersCore } from '../types.js'

/** A text sink the CLI writes to (standard output or error, or a buffer in tests). */
export type CliOutput = NodeJS.WritableStream & { isTTY?: boolean; columns?: number }

/** Standard input as the CLI uses it: read in full, or prompted on a terminal. */
export type CliInput = NodeJS.ReadableStream & {
  isTTY?: boolean
  setRawMode?: (mode: boolean) => unknown
}

/**
 * Everything the CLI touches outside itself, passed in so commands never reach for globals; only
 * `main.ts` builds it from `process`.
 */
export interface CliIo {
  stdin: CliInput
  stdout: CliOutput
  stderr: CliOutput
  env: NodeJS.ProcessEnv
  cwd: string
}

/** What a command leaves behind for `run()`: its exit code, or that it now owns the process. */
export interface CliState {
  exitCode: number
  /** Set by `serve`: the process lives on and its signal handlers decide the exit. */
  detached: boolean
}

/** The options every command inherits from the program (see `program.ts`). */
export interface GlobalOptions {
  config?: string
  databaseUrl?: string
}

/** Recorded as the user agent of audit events written by CLI commands. */
export const CLI_REQUEST_CONTEXT: RequestContext = Object.freeze({ userAgent: 'users-core-cli' })

/**
 * Loads the configuration for `command` (SPEC §2: defaults < TOML < environment < flags) from
 * `--config`, `--database-url` and the command's own flag overrides (dotted keys).
 */
export function loadCliConfig(
  command: Command,
  io: CliIo,
  flags: Record<string, unknown> = {},
): LoadedConfig {
  const globals = command.optsWithGlobals<GlobalOptions>()
  const merged: Record<string, unknown> = {
    ...(globals.databaseUrl !== undefined ? { database_url: globals.databaseUrl } : {}),
    ...flags,
  }
  return loadConfig({ configPath: globals.config, env: io.env, flags: merged, cwd: io.cwd })
}

/** Warns once on standard error about `USERS_CORE_*` variables that name no config key. */
export function warnUnknownEnv(loaded: LoadedConfig, io: CliIo): void {
  if (loaded.unknownEnv.length === 0) return
  io.stderr.write(
    `users-core: warning: ignoring unknown environment variable(s): ${loaded.unknownEnv.join(', ')}\n`,
  )
}

/**
 * A logger for one-shot commands: JSON lines on standard error so `--json` output on standard
 * output stays clean, and `info` chatter (migrations, keys) lowered to `warn`.
 */
export function createCliLogger(level: string, stderr: CliOutput): Logger {
  const quiet = level === 'info' ? 'warn' : level
  return createLogger(quiet, { write: (line: string) => stderr.write(line) })
}

/**
 * Opens the core on `loaded.config` (running migrations), runs `fn`, and always closes it. The
 * core is imported lazily so `--help` and `config` commands start fast.
 */
export async function withCore<T>(
  loaded: LoadedConfig,
  io: CliIo,
  fn: (core: UsersCore) => Promise<T>,
): Promise<T> {
  warnUnknownEnv(loaded, io)
  const { init } = await import('../core.js')
  const core = await init(loaded.config, {
    logger: createCliLogger(loaded.config.log_level, io.stderr),
  })
  try {
    return await fn(core)
  } finally {
    await core.close()
  }
}

/** Writes `text` followed by a newline. */
export function println(out: CliOutput, text = ''): void {
  out.write(`${text}\n`)
}

/** Writes `value` as pretty JSON. */
export function printJson(out: CliOutput, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`)
}
