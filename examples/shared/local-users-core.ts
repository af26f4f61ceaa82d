// A throwaway users-core for the examples: in-memory SQLite, a free port on 127.0.0.1, no logs.
// Any USERS_CORE_* variable in the environment wins over these example defaults (the tests use
// that to make Argon2 cheap), and `overrides` win over both.

import { pino } from 'pino'
import { type RunningServer, startServer } from '../../src/http/index.js'
import type { Config, UsersCore } from '../../src/index.js'
import { init, loadConfig } from '../../src/index.js'

/** The example defaults, lowest precedence: real environment variables override them. */
export const EXAMPLE_ENV: Readonly<Record<string, string>> = {
  USERS_CORE_DATABASE_URL: 'sqlite::memory:',
  USERS_CORE_API_BIND_ADDRESS: '127.0.0.1:0',
  USERS_CORE_LOG_LEVEL: 'silent',
}

/** The example configuration: defaults < EXAMPLE_ENV < process.env < `overrides`. */
export function exampleConfig(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: { ...EXAMPLE_ENV, ...process.env }, flags: overrides }).config
}

/** A users-core server started in this process. */
export interface LocalUsersCore {
  core: UsersCore
  server: RunningServer
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string
  close(): Promise<void>
}

/** Starts users-core on a free port, as `users-core serve` would but in this process. */
export async function startLocalUsersCore(
  overrides: Record<string, unknown> = {},
): Promise<LocalUsersCore> {
  const config = exampleConfig(overrides)
  const logger = pino({ level: config.log_level })
  const core = await init(config, { logger })
  const server = await startServer({ core, config, logger })
  return { core, server, url: server.url, close: () => server.close() }
}
