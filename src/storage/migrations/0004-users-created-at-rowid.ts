import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * SQLite only: the newest-first list walks `(created_at, rowid)` instead of `(created_at, id)`.
 * An index on `created_at` alone carries the rowid in each entry, about 10 bytes where the
 * 36-character id took 46, so a deep offset steps through a quarter of the pages. PostgreSQL has
 * no rowid and keeps `(created_at, id)`.
 */
export const usersCreatedAtRowidMigration: Migration = {
  name: '0004_users_created_at_rowid',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    if (dialect === 'postgres') return
    await sql`CREATE INDEX users_created_at_rowid_idx ON users (created_at)`.execute(db)
    await sql`DROP INDEX users_created_at_idx`.execute(db)
  },
}
