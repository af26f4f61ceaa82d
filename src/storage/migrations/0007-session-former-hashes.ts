import type { Kysely } from 'kysely'
import type { Migration } from './migration.js'

/**
 * `sessions.former_refresh_hashes`: the truncated hashes of a session's replaced refresh tokens,
 * so that only a token the session really issued counts as a replay and revokes it. Existing
 * sessions start with none; their previous token is still known from `previous_refresh_hash`.
 * A constant default adds the column without rewriting the table on either database.
 */
export const sessionFormerHashesMigration: Migration = {
  name: '0007_session_former_hashes',
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('sessions')
      .addColumn('former_refresh_hashes', 'text', (c) => c.notNull().defaultTo(''))
      .execute()
  },
}
