import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * Substring search over users without a table scan (`GET /users?search=`). SQLite: an FTS5
 * trigram index kept in step by triggers. PostgreSQL: pg_trgm GIN indexes, which the existing
 * `LIKE '%…%'` uses as it is — created only where the extension is available (it needs the
 * right to create extensions); without it search stays a scan, and still correct.
 */
export const userSearchMigration: Migration = {
  name: '0002_user_search',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    if (dialect === 'postgres') {
      await sql`
        DO $$ BEGIN
          CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN NULL;
        END $$`.execute(db)
      await sql`
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            CREATE INDEX IF NOT EXISTS users_username_trgm ON users USING gin (username_lower gin_trgm_ops);
            CREATE INDEX IF NOT EXISTS users_email_trgm ON users USING gin (email_lower gin_trgm_ops);
            CREATE INDEX IF NOT EXISTS users_display_name_trgm ON users USING gin (lower(display_name) gin_trgm_ops);
          END IF;
        END $$`.execute(db)
      return
    }
    // Contentless (the text lives in users) with row deletes allowed; one row per user, by rowid.
    await sql`CREATE VIRTUAL TABLE users_search USING fts5(
      username, email, display_name,
      content = '', contentless_delete = 1, tokenize = 'trigram'
    )`.execute(db)
    await sql`INSERT INTO users_search (rowid, username, email, display_name)
      SELECT rowid, username_lower, coalesce(email_lower, ''), lower(coalesce(display_name, ''))
      FROM users`.execute(db)
    await sql`CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
      INSERT INTO users_search (rowid, username, email, display_name)
      VALUES (new.rowid, new.username_lower, coalesce(new.email_lower, ''),
              lower(coalesce(new.display_name, '')));
    END`.execute(db)
    await sql`CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
      DELETE FROM users_search WHERE rowid = old.rowid;
    END`.execute(db)
    await sql`CREATE TRIGGER users_search_update
      AFTER UPDATE OF username_lower, email_lower, display_name ON users BEGIN
      DELETE FROM users_search WHERE rowid = old.rowid;
      INSERT INTO users_search (rowid, username, email, display_name)
      VALUES (new.rowid, new.username_lower, coalesce(new.email_lower, ''),
              lower(coalesce(new.display_name, '')));
    END`.execute(db)
  },
}
