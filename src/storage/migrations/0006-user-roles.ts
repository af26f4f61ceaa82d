import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../schema.js'
import type { Migration } from './migration.js'

/**
 * `user_roles (role, user_id, active)`: one row per role a user holds, kept by triggers on
 * `users` in the writing transaction. `GET /users?role=` and the last-admin guard read it
 * instead of matching every user's JSON `roles` with LIKE (a full scan on the event loop).
 * `active` is copied and keyed, so a role's active or inactive members are a range of the
 * primary key. A user's own rows are found by their full key (each role in the user's `roles`,
 * the user's `active`, the id), so no second index is needed.
 */
export const userRolesMigration: Migration = {
  name: '0006_user_roles',
  async up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
    if (dialect === 'sqlite') await upSqlite(db)
    else await upPostgres(db)
  },
}

async function upSqlite(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE user_roles (
    role TEXT NOT NULL,
    user_id TEXT NOT NULL,
    active INTEGER NOT NULL,
    PRIMARY KEY (role, active, user_id)
  ) WITHOUT ROWID`.execute(db)
  // DISTINCT rather than OR IGNORE: an outer statement's conflict policy would override the
  // trigger's, and a new user id has no rows yet.
  await sql`CREATE TRIGGER user_roles_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_roles (role, user_id, active)
      SELECT DISTINCT value, new.id, new.active FROM json_each(new.roles);
  END`.execute(db)
  await sql`CREATE TRIGGER user_roles_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_roles
      WHERE user_id = old.id AND active = old.active
        AND role IN (SELECT value FROM json_each(old.roles));
  END`.execute(db)
  // Fires only when roles or active change: a login's update of last_login costs nothing.
  await sql`CREATE TRIGGER user_roles_update AFTER UPDATE OF roles, active ON users
    WHEN old.roles IS NOT new.roles OR old.active IS NOT new.active BEGIN
    DELETE FROM user_roles
      WHERE user_id = old.id AND active = old.active
        AND role IN (SELECT value FROM json_each(old.roles));
    INSERT INTO user_roles (role, user_id, active)
      SELECT DISTINCT value, new.id, new.active FROM json_each(new.roles);
  END`.execute(db)
  // The migrator holds BEGIN IMMEDIATE: no writer can slip between the backfill and the triggers.
  await sql`INSERT INTO user_roles (role, user_id, active)
    SELECT DISTINCT r.value, u.id, u.active FROM users u, json_each(u.roles) r`.execute(db)
}

async function upPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE user_roles (
    role TEXT NOT NULL,
    user_id TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (role, active, user_id)
  )`.execute(db)
  // As in 0003: hold running instances' user writes back until triggers and backfill commit.
  await sql`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`.execute(db)
  // Inserts and deletes are statement-level with transition tables, like the counts: a bulk
  // import runs one INSERT … SELECT per statement, not one per row.
  await sql`CREATE FUNCTION user_roles_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO user_roles (role, user_id, active)
        SELECT DISTINCT r.role, a.id, a.active
        FROM added a, jsonb_array_elements_text(a.roles::jsonb) AS r(role);
      RETURN NULL;
    END $$`.execute(db)
  await sql`CREATE TRIGGER user_roles_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION user_roles_added()`.execute(db)
  await sql`CREATE FUNCTION user_roles_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM user_roles ur
        USING removed d, jsonb_array_elements_text(d.roles::jsonb) AS r(role)
        WHERE ur.role = r.role AND ur.active = d.active AND ur.user_id = d.id;
      RETURN NULL;
    END $$`.execute(db)
  await sql`CREATE TRIGGER user_roles_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION user_roles_removed()`.execute(db)
  // Transition tables cannot go with a column list, so updates are row-level with a WHEN.
  await sql`CREATE FUNCTION user_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM user_roles
        WHERE user_id = OLD.id AND active = OLD.active
          AND role IN (SELECT jsonb_array_elements_text(OLD.roles::jsonb));
      INSERT INTO user_roles (role, user_id, active)
        SELECT DISTINCT r.role, NEW.id, NEW.active
        FROM jsonb_array_elements_text(NEW.roles::jsonb) AS r(role);
      RETURN NULL;
    END $$`.execute(db)
  await sql`CREATE TRIGGER user_roles_update AFTER UPDATE OF roles, active ON users
    FOR EACH ROW WHEN (OLD.roles IS DISTINCT FROM NEW.roles OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION user_roles_changed()`.execute(db)
  await sql`CREATE FUNCTION user_roles_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      TRUNCATE user_roles;
      RETURN NULL;
    END $$`.execute(db)
  await sql`CREATE TRIGGER user_roles_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION user_roles_truncated()`.execute(db)
  await sql`INSERT INTO user_roles (role, user_id, active)
    SELECT DISTINCT r.role, u.id, u.active
    FROM users u, jsonb_array_elements_text(u.roles::jsonb) AS r(role)`.execute(db)
}
