import { type Kysely, sql } from 'kysely'
import type { StoreLock } from '../context.js'
import type { Database } from '../schema.js'

/** Session-level advisory lock key serialising migrators across PostgreSQL clients. */
export const MIGRATION_LOCK_KEY = 7_306_114_001

// Transaction-scoped advisory locks: each serialises one "exactly one winner" task across every
// instance sharing the database.
const LOCK_KEYS: Record<StoreLock, number> = {
  'first-user': 7_306_114_002,
  'bootstrap-keys': 7_306_114_003,
  'admin-guard': 7_306_114_004,
}

/** Takes `lock` until `trx` ends. */
export async function advisoryLock(trx: Kysely<Database>, lock: StoreLock): Promise<void> {
  await sql`select pg_advisory_xact_lock(${LOCK_KEYS[lock]})`.execute(trx)
}
