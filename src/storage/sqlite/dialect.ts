import { type Kysely, sql } from 'kysely'
import type { StoreDialect } from '../context.js'
import type { Database } from '../schema.js'
import { createGroupCommit } from './group-commit.js'
import type { SqliteConnection } from './open.js'
import { trigramCandidates } from './search.js'

/**
 * SQLite: booleans are 0/1; writes are group-committed; BEGIN IMMEDIATE already serialises
 * writers, across processes too, so no task needs a lock of its own. Users are ordered by the
 * rowid, which the (created_at) index carries instead of the 36-character id (migration 0004).
 */
export function sqliteDialect(db: Kysely<Database>, connection: SqliteConnection): StoreDialect {
  return {
    name: 'sqlite',
    bool: (value) => (value ? 1 : 0),
    transaction: createGroupCommit(db, connection),
    lock: async () => undefined,
    lockChainRow: false,
    userKey: sql.ref<string | number>('rowid'),
    searchCandidates: trigramCandidates,
  }
}
