import type { Kysely } from 'kysely'
import type { Transaction } from '../context.js'
import { mapDatabaseError } from '../db-errors.js'
import type { Database } from '../schema.js'
import type { SqliteConnection } from './open.js'

interface PendingWrite {
  work: (trx: Kysely<Database>) => Promise<unknown>
  resolve(value: unknown): void
  reject(error: unknown): void
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/**
 * Group commit: the writes requested in one turn of the event loop share one `BEGIN IMMEDIATE …
 * COMMIT`, each inside its own savepoint, so one that fails is rolled back alone and the others
 * still commit. Each caller is answered only after the commit, exactly as with a transaction of
 * its own, but the pages a batch touches (session, audit rows and indexes, chain head) reach the
 * WAL once per batch instead of once per write. BEGIN IMMEDIATE takes the write lock first, so
 * read-then-write never hits a busy snapshot. The batch holds Kysely's connection throughout;
 * its own statements are prepared once on it.
 */
export function createGroupCommit(db: Kysely<Database>, connection: SqliteConnection): Transaction {
  const begin = connection.prepare('begin immediate')
  const commit = connection.prepare('commit')
  const rollback = connection.prepare('rollback')
  const savepoint = connection.prepare('savepoint grouped_write')
  const release = connection.prepare('release grouped_write')
  const rollbackTo = connection.prepare('rollback to grouped_write')
  let pending: PendingWrite[] = []

  async function runBatch(conn: Kysely<Database>, batch: PendingWrite[], outcomes: Outcome[]) {
    begin().run()
    try {
      // A write alone needs no savepoint: if it fails, the whole transaction rolls back.
      const [only] = batch
      if (batch.length === 1 && only) {
        outcomes.push({ ok: true, value: await only.work(conn) })
        commit().run()
        return
      }
      for (const { work } of batch) {
        savepoint().run()
        try {
          const value = await work(conn)
          release().run()
          outcomes.push({ ok: true, value })
        } catch (error) {
          rollbackTo().run()
          release().run()
          outcomes.push({ ok: false, error })
        }
      }
      commit().run()
    } catch (error) {
      try {
        rollback().run()
      } catch {
        // Nothing to roll back: SQLite already ended the transaction.
      }
      throw error
    }
  }

  async function flush(): Promise<void> {
    const batch = pending
    pending = []
    const outcomes: Outcome[] = []
    try {
      await db.connection().execute((conn) => runBatch(conn, batch, outcomes))
    } catch (error) {
      const failure = mapDatabaseError(error) ?? error
      for (const write of batch) write.reject(failure)
      return
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]
      if (outcome?.ok) write.resolve(outcome.value)
      else write.reject(mapDatabaseError(outcome?.error) ?? outcome?.error)
    })
  }

  return <T>(work: (trx: Kysely<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      pending.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (pending.length === 1) setImmediate(flush)
    })
}
