import type { Config } from '../config/schema.js'
import type { Store } from '../domain/store.js'
import type { Logger } from '../lib/logger.js'
import { createKyselyStore } from './kysely-store.js'
import { createPostgresKysely } from './postgres/open.js'
import { openSqliteKysely } from './sqlite/open.js'

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Receives PostgreSQL connection errors that happen outside any request. */
  logger?: Logger
  /** Base for relative `sqlite://PATH` URLs; defaults to the working directory. */
  cwd?: string
}

/**
 * Opens the store named by `config.database_url` (`sqlite://PATH`, `sqlite::memory:` or
 * `postgres://...`). It does not migrate: call `store.migrate()` before use.
 */
export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  const url = config.database_url
  if (/^postgres(ql)?:\/\//.test(url)) {
    const db = createPostgresKysely(url, {
      poolSize: config.database_pool_size,
      logger: options.logger,
    })
    return createKyselyStore(db, 'postgres')
  }
  const sqlite = openSqliteKysely(url, options.cwd)
  return createKyselyStore(sqlite.db, 'sqlite', {
    connection: sqlite.connection,
    changeStamp: sqlite.changeStamp,
    ...(sqlite.reader && { reader: sqlite.reader }),
  })
}
