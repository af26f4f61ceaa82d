import { resolve } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { UsersError } from '../../errors.js'
import type { Database } from '../schema.js'
import { createChangeStamp } from './change-stamp.js'
import { createSqliteReader, type SqliteReader } from './reader.js'
import { withStatementCache } from './statement-cache.js'

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

/**
 * A SQLite database as users-core opens it: Kysely over its main connection, that connection's
 * change stamp, and (file databases) the reader that serves slow reads on a thread of its own.
 */
export interface SqliteKysely {
  db: Kysely<Database>
  /**
   * A number that grows whenever the database may have changed: on every statement this
   * connection runs that can write (the write itself, before it commits; a rolled-back one
   * counts too), and on every commit any other connection made since the last call (another
   * `serve` or the operator CLI on the same file: `PRAGMA data_version`). Equal stamps mean no
   * row has changed in between. Costs one prepared pragma, the largest part of a
   * cached lookup — the price of seeing other processes' commits at once
   * (`docs/decisions.md`).
   */
  changeStamp(): number
  /** File databases: a connection on its own thread for the reads that grow with the data. */
  reader: SqliteReader | undefined
  /** The same main connection, for the statements the store prepares on it itself. */
  connection: SqliteConnection
}

/**
 * The main connection under Kysely, for the hot paths that run better-sqlite3 statements
 * prepared once: no query building or executor per call. `exclusive` runs `work` while Kysely
 * has the connection to itself, so it never lands inside a group commit or a migration.
 */
export interface SqliteConnection {
  /**
   * `text` prepared on first use (after migrations made its tables) and kept; a statement that
   * can write moves the change stamp each time it runs.
   */
  prepare(text: string): () => BetterSqlite3.Statement
  exclusive<T>(work: () => T | Promise<T>): Promise<T>
}

/**
 * Opens `url` (`sqlite://PATH` or `sqlite::memory:`) with its statement cache, change stamp and
 * reader; the reader starts no thread until its first read.
 */
export function openSqliteKysely(url: string, cwd?: string): SqliteKysely {
  const raw = openSqliteDatabase(url, cwd)
  const stamp = createChangeStamp(raw)
  const database = withStatementCache(raw, stamp.countWrite)
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
  return {
    db,
    reader: raw.memory ? undefined : createSqliteReader(raw.name),
    changeStamp: stamp.read,
    connection: {
      prepare: (text) => {
        let stmt: BetterSqlite3.Statement | undefined
        return () => {
          stmt ??= countingRuns(raw.prepare(text), stamp.countWrite)
          return stmt
        }
      },
      exclusive: (work) => db.connection().execute(async () => work()),
    },
  }
}

/** `stmt`, calling `onWrite` before each execution when it can write (SQLite's own verdict). */
function countingRuns(stmt: BetterSqlite3.Statement, onWrite: () => void): BetterSqlite3.Statement {
  if (stmt.readonly) return stmt
  const { run, get, all } = stmt
  stmt.run = (...params) => {
    onWrite()
    return run.apply(stmt, params)
  }
  stmt.get = (...params) => {
    onWrite()
    return get.apply(stmt, params)
  }
  stmt.all = (...params) => {
    onWrite()
    return all.apply(stmt, params)
  }
  return stmt
}

/** A Kysely instance over a SQLite URL (`sqlite://PATH` or `sqlite::memory:`). */
export function createSqliteKysely(url: string, cwd?: string): Kysely<Database> {
  return openSqliteKysely(url, cwd).db
}
