import { resolve } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely'
import { UsersError } from '../errors.js'
import type { Database } from './schema.js'

/** Prepared statements kept per connection; hot paths reuse theirs instead of re-preparing. */
const STATEMENT_CACHE_SIZE = 256

/** The file path of a `sqlite://PATH` URL (relative to `cwd`), or `:memory:`. */
export function sqlitePath(url: string, cwd: string = process.cwd()): string {
  if (url === 'sqlite::memory:') return ':memory:'
  if (!url.startsWith('sqlite://') || url.length <= 'sqlite://'.length) {
    throw new UsersError('VALIDATION_ERROR', {
      message: 'database_url: expected sqlite://PATH or sqlite::memory:',
    })
  }
  return resolve(cwd, url.slice('sqlite://'.length))
}

/**
 * Opens a better-sqlite3 database with the pragmas users-core relies on: WAL (file databases),
 * synchronous=NORMAL, foreign keys (ON DELETE CASCADE) and a 5 s busy timeout so concurrent
 * processes wait for the write lock instead of failing.
 */
export function openSqliteDatabase(url: string, cwd?: string): BetterSqlite3.Database {
  const path = sqlitePath(url, cwd)
  let db: BetterSqlite3.Database
  try {
    db = new BetterSqlite3(path)
  } catch (cause) {
    throw new UsersError('UNAVAILABLE', {
      message: `cannot open SQLite database ${path}: ${(cause as Error).message}`,
      retryAfterSeconds: 1,
      cause,
    })
  }
  // busy_timeout first: switching to WAL takes a lock another starting process may hold.
  db.pragma('busy_timeout = 5000')
  if (path !== ':memory:') db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  return db
}

/** Wraps a database so each distinct SQL text is prepared once (bounded, oldest evicted). */
export function withStatementCache(
  db: BetterSqlite3.Database,
  size = STATEMENT_CACHE_SIZE,
): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>()
  return {
    close: () => db.close(),
    prepare(text: string): SqliteStatement {
      let stmt = cache.get(text)
      if (stmt === undefined) {
        stmt = db.prepare(text) as unknown as SqliteStatement
        if (cache.size >= size) {
          const oldest = cache.keys().next()
          if (!oldest.done) cache.delete(oldest.value)
        }
        cache.set(text, stmt)
      }
      return stmt
    },
  }
}

/** A Kysely instance over a SQLite URL (`sqlite://PATH` or `sqlite::memory:`). */
export function createSqliteKysely(url: string, cwd?: string): Kysely<Database> {
  const database = withStatementCache(openSqliteDatabase(url, cwd))
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
}
