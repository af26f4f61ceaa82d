import { type Kysely, sql } from 'kysely'
import type { MigrationResult } from '../domain/store.js'
import { MIGRATIONS, type Migration } from './migrations/index.js'
import { MIGRATION_LOCK_KEY } from './postgres/locks.js'
import type { Database, Dialect } from './schema.js'

/**
 * Applies pending migrations exactly once, even when several processes start together:
 * PostgreSQL holds `pg_advisory_lock` for the whole run, SQLite holds the write lock of a
 * `BEGIN IMMEDIATE` transaction (other processes wait on busy_timeout). Already-applied
 * migrations are reported, not treated as errors.
 */
export async function runMigrations(
  db: Kysely<Database>,
  dialect: Dialect,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): Promise<MigrationResult> {
  // One pinned connection: the advisory lock belongs to a session, and the work must share it.
  return db.connection().execute(async (conn) => {
    if (dialect === 'sqlite') {
      await sql`begin immediate`.execute(conn)
      try {
        const result = await applyPending(conn, dialect, migrations, now, false)
        await sql`commit`.execute(conn)
        return result
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined)
        throw error
      }
    }
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn)
    try {
      return await applyPending(conn, dialect, migrations, now, true)
    } finally {
      // A broken connection already released the lock; don't mask the original error.
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
        .execute(conn)
        .catch(() => undefined)
    }
  })
}

async function applyPending(
  conn: Kysely<Database>,
  dialect: Dialect,
  migrations: readonly Migration[],
  now: () => number,
  ownTransactions: boolean,
): Promise<MigrationResult> {
  await conn.schema
    .createTable('users_core_migrations')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
    .execute()
  const rows = await conn.selectFrom('users_core_migrations').select('name').execute()
  const done = new Set(rows.map((r) => r.name))
  const result: MigrationResult = { applied: [], alreadyApplied: [] }
  for (const migration of migrations) {
    if (done.has(migration.name)) {
      result.alreadyApplied.push(migration.name)
      continue
    }
    // PostgreSQL DDL is transactional: each migration and its record commit together.
    if (ownTransactions) await sql`begin`.execute(conn)
    try {
      await migration.up(conn as unknown as Kysely<unknown>, dialect)
      await conn
        .insertInto('users_core_migrations')
        .values({ name: migration.name, applied_at: now() })
        .execute()
      if (ownTransactions) await sql`commit`.execute(conn)
    } catch (error) {
      if (ownTransactions) await sql`rollback`.execute(conn).catch(() => undefined)
      throw error
    }
    result.applied.push(migration.name)
  }
  return result
}
