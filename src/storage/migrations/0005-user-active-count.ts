import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * The number of active users beside the total (migration 0003), kept by the same triggers plus
 * one on changes of `active`: `GET /users?active=true|false` answers `X-Total-Count` from one
 * row instead of counting every user.
 */
export const userActiveCountMigration: Migration = {
  name: '0005_user_active_count',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    const isPg = dialect === 'postgres'
    await db.schema
      .alterTable('users_count')
      .addColumn('active', isPg ? 'bigint' : 'integer', (c) => c.notNull().defaultTo(0))
      .execute()

    if (!isPg) {
      // The migrator holds BEGIN IMMEDIATE: no writer can slip between the count and the triggers.
      await sql`DROP TRIGGER users_count_insert`.execute(db)
      await sql`DROP TRIGGER users_count_delete`.execute(db)
      await sql`CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
        UPDATE users_count SET total = total + 1, active = active + (new.active <> 0) WHERE id = 1;
      END`.execute(db)
      await sql`CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
        UPDATE users_count SET total = total - 1, active = active - (old.active <> 0) WHERE id = 1;
      END`.execute(db)
      await sql`CREATE TRIGGER users_count_active AFTER UPDATE OF active ON users
        WHEN (old.active <> 0) <> (new.active <> 0) BEGIN
        UPDATE users_count SET active = active + (CASE WHEN new.active <> 0 THEN 1 ELSE -1 END)
        WHERE id = 1;
      END`.execute(db)
      await sql`UPDATE users_count SET active = (SELECT count(*) FROM users WHERE active <> 0)
        WHERE id = 1`.execute(db)
      return
    }

    // As in 0003: hold running instances' user writes back until triggers and backfill commit.
    await sql`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`.execute(db)
    await sql`CREATE OR REPLACE FUNCTION users_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET total = total + (SELECT count(*) FROM added),
          active = active + (SELECT count(*) FROM added WHERE active) WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    await sql`CREATE OR REPLACE FUNCTION users_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET total = total - (SELECT count(*) FROM removed),
          active = active - (SELECT count(*) FROM removed WHERE active) WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    await sql`CREATE OR REPLACE FUNCTION users_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET total = 0, active = 0 WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    // Row-level with a WHEN: an update that leaves `active` alone (every login) costs nothing.
    await sql`CREATE FUNCTION users_count_active_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE users_count SET active = active + (CASE WHEN NEW.active THEN 1 ELSE -1 END)
          WHERE id = 1;
        RETURN NULL;
      END $$`.execute(db)
    await sql`CREATE TRIGGER users_count_active AFTER UPDATE OF active ON users
      FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
      EXECUTE FUNCTION users_count_active_changed()`.execute(db)
    await sql`UPDATE users_count SET active = (SELECT count(*) FROM users WHERE active)
      WHERE id = 1`.execute(db)
  },
}
