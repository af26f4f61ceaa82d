import { type Kysely, sql } from 'kysely'
import { guard, type StoreDialect } from '../context.js'
import type { Database } from '../schema.js'
import { advisoryLock } from './locks.js'

/**
 * PostgreSQL: one transaction per write; advisory locks for "exactly one winner" tasks; the
 * chain row locked FOR UPDATE; users ordered by id. Searches need no candidates: the pg_trgm
 * GIN indexes (migration 0002) serve the LIKE itself.
 */
export function postgresDialect(db: Kysely<Database>): StoreDialect {
  return {
    name: 'postgres',
    bool: (value) => value,
    transaction: (work) => guard(() => db.transaction().execute(work)),
    lock: advisoryLock,
    lockChainRow: true,
    userKey: sql.ref<string | number>('id'),
    searchCandidates: () => undefined,
  }
}
