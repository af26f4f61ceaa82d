import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * The number of users, kept exact by triggers in the writing transaction, so an unfiltered
 * `GET /users` answers `X-Total-Count` without counting a million rows. Any write path — single
 * insert, bulk `ON CONFLICT DO NOTHING` (skipped rows fire nothing), delete — is covered because
 * the database itself keeps the count.
 */
export const userCountMigration: Migration = {
  name: '0003_user_count',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    const isPg = dialect === 'postgres'
    await db.schema
      .createTable('users_count')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('total', isPg ? 'bigint' : 'integer', (c) => c.notNull())
      .execute()

    if (!isPg) {
      // The migrator holds BEGIN IMMEDIATE: no writer can slip between the count and the triggers.
      await sql`INSERT INTO users_count (id, total) SELECT 1, count(*) FROM users`.execute(db)
      await sql`CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
        UPDATE users_count SET total = total + 1 WHERE id = 1;
      END`.execute(db)
      await sql`CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
        UPDATE users_count SET total = total - 1 WHERE id = 1;
      END`.execute(db)
      return
    }

    // Running instances may be writing users: hold their inserts and deletes back until the
    // triggers and the backfill commit together, so none is counted twice or missed.
    await sql`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`.execute(db)
    // Statement-level with transition tables: a 500-row bulk insert updates the counter once.
    await sql`CREATE FUNCTION users_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET total = total + (SELECT count(*) FROM added) WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    await sql`CREATE FUNCTION users_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET total = total - (SELECT count(*) FROM removed) WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    await sql`CREATE FUNCTION users_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET total = 0 WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    await sql`CREATE TRIGGER users_count_insert AFTER INSERT ON users
      REFERENCING NEW TABLE AS added FOR EACH STATEMENT
      EXECUTE FUNCTION users_count_added()`.execute(db)
    await sql`CREATE TRIGGER users_count_delete AFTER DELETE ON users
      REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
      EXECUTE FUNCTION users_count_removed()`.execute(db)
    await sql`CREATE TRIGGER users_count_truncate AFTER TRUNCATE ON users
      FOR EACH STATEMENT EXECUTE FUNCTION users_count_truncated()`.execute(db)
    await sql`INSERT INTO users_count (id, total) SELECT 1, count(*) FROM users`.execute(db)
  },
}
