import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Logger } from '../../lib/logger.js'
import type { Database } from '../schema.js'

/** Per-statement limit: a stuck query fails instead of holding a pool slot forever. */
export const STATEMENT_TIMEOUT_MS = 5000
/** How long to wait for a new connection before reporting the database unavailable. */
export const CONNECT_TIMEOUT_MS = 5000

/** Options of {@link createPostgresPool}. */
export interface PostgresOptions {
  poolSize: number
  logger?: Logger | undefined
}

/**
 * A `pg` pool for users-core: bounded size, statement timeout, connect timeout. Connection
 * errors of idle clients are logged, never thrown: an unhandled 'error' event would kill the
 * process when the database restarts.
 */
export function createPostgresPool(url: string, options: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    application_name: 'users-core',
  })
  const onError = (error: Error) => {
    options.logger?.warn({ err: { message: error.message } }, 'postgres connection error')
  }
  pool.on('error', onError)
  // A checked-out client between queries has no pool listener; give each one its own.
  pool.on('connect', (client) => client.on('error', onError))
  return pool
}

/** A Kysely instance over a `postgres://` URL. */
export function createPostgresKysely(url: string, options: PostgresOptions): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPostgresPool(url, options) }),
  })
}
