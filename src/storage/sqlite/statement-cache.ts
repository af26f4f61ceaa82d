import type BetterSqlite3 from 'better-sqlite3'
import type { SqliteDatabase, SqliteStatement } from 'kysely'
import { LRUCache } from 'lru-cache'

/** Prepared statements kept per connection; hot paths reuse theirs instead of re-preparing. */
const STATEMENT_CACHE_SIZE = 256

/**
 * Wraps a database so each distinct SQL text is prepared once (bounded, least recently used
 * evicted), and
 * calls `onWrite` just before each run of a statement that can write.
 */
export function withStatementCache(
  db: BetterSqlite3.Database,
  onWrite: () => void,
  size = STATEMENT_CACHE_SIZE,
): SqliteDatabase {
  const cache = new LRUCache<string, SqliteStatement>({ maxSize: size, sizeCalculation: () => 1 })
  return {
    close: () => db.close(),
    prepare(text: string): SqliteStatement {
      let stmt = cache.get(text)
      if (stmt === undefined) {
        const prepared = db.prepare(text)
        // `readonly` is SQLite's own verdict (sqlite3_stmt_readonly): false for any INSERT,
        // UPDATE, DELETE or DDL, with or without RETURNING; true for SELECT, BEGIN, COMMIT.
        stmt = prepared.readonly
          ? (prepared as unknown as SqliteStatement)
          : countingWrites(prepared as unknown as SqliteStatement, onWrite)
        cache.set(text, stmt)
      }
      return stmt
    },
  }
}

function countingWrites(stmt: SqliteStatement, onWrite: () => void): SqliteStatement {
  return {
    reader: stmt.reader,
    all(parameters) {
      onWrite()
      return stmt.all(parameters)
    },
    run(parameters) {
      onWrite()
      return stmt.run(parameters)
    },
    iterate(parameters) {
      onWrite()
      return stmt.iterate(parameters)
    },
  }
}
