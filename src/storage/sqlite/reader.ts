import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { CompiledQuery } from 'kysely'

/**
 * A second connection to a SQLite file, on a thread of its own, for the reads that grow with the
 * data: user lists and searches, audit queries, and their totals. better-sqlite3 runs a query
 * synchronously, so on the main connection a 1-character search over every user (no index
 * can serve it) stops every other request for as long; here it only takes its own time.
 * WAL lets this connection read while the main one writes; it is `query_only`.
 */
export interface SqliteReader {
  /**
   * The rows of each query, all read in one transaction (one snapshot: a page and its total
   * agree). Rejects with an Error carrying SQLite's `code`, as better-sqlite3 would throw.
   */
  read(queries: readonly CompiledQuery[]): Promise<unknown[][]>
  close(): Promise<void>
}

// Plain CommonJS evaluated in the worker, as the hash workers: the same under tsx, Vitest, dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path, { fileMustExist: true })
db.pragma('busy_timeout = 5000')
db.pragma('query_only = ON')
const statements = new Map()
const prepared = (sql) => {
  let statement = statements.get(sql)
  if (statement === undefined) {
    statement = db.prepare(sql)
    if (statements.size >= workerData.statementCacheSize) statements.delete(statements.keys().next().value)
    statements.set(sql, statement)
  }
  return statement
}
const readAll = db.transaction((queries) => queries.map((q) => prepared(q.sql).all(q.parameters)))
parentPort.on('message', ({ id, queries }) => {
  try {
    parentPort.postMessage({ id, ok: true, results: readAll(queries) })
  } catch (error) {
    const code = error && typeof error.code === 'string' ? error.code : undefined
    parentPort.postMessage({ id, ok: false, message: String((error && error.message) || error), code })
  }
})
`

interface Reply {
  id: number
  ok: boolean
  results?: unknown[][]
  message?: string
  code?: string
}

interface Pending {
  resolve(results: unknown[][]): void
  reject(error: Error): void
}

/**
 * Opens the reader for the SQLite file at `path` (already created and migrated). The thread
 * starts on the first read, holds the process open only while a read is in flight, and is
 * started again if it dies.
 */
export function createSqliteReader(path: string, statementCacheSize = 64): SqliteReader {
  const workerData = {
    driver: createRequire(import.meta.url).resolve('better-sqlite3'),
    path,
    statementCacheSize,
  }
  const pending = new Map<number, Pending>()
  let worker: Worker | undefined
  let nextId = 0
  let closed = false

  const failAll = (error: Error) => {
    for (const entry of pending.values()) entry.reject(error)
    pending.clear()
  }

  const start = (): Worker => {
    const started = new Worker(WORKER_SOURCE, { eval: true, workerData })
    started.unref()
    started.on('message', (reply: Reply) => {
      const entry = pending.get(reply.id)
      if (entry === undefined) return
      pending.delete(reply.id)
      if (pending.size === 0) started.unref()
      if (reply.ok) entry.resolve(reply.results ?? [])
      else entry.reject(Object.assign(new Error(reply.message), { code: reply.code }))
    })
    started.on('error', (error) => {
      if (worker === started) worker = undefined
      failAll(error)
    })
    started.on('exit', () => {
      if (worker === started) worker = undefined
      failAll(new Error('the SQLite reader thread exited'))
    })
    return started
  }

  return {
    read(queries) {
      if (closed) return Promise.reject(new Error('the SQLite reader is closed'))
      worker ??= start()
      const id = nextId++
      const message = {
        id,
        queries: queries.map((q) => ({ sql: q.sql, parameters: q.parameters })),
      }
      return new Promise<unknown[][]>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        ;(worker as Worker).ref()
        ;(worker as Worker).postMessage(message)
      })
    },
    async close() {
      closed = true
      const running = worker
      worker = undefined
      failAll(new Error('the SQLite reader is closed'))
      await running?.terminate()
    },
  }
}
