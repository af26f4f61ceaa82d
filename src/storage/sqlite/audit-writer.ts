import type { AuditChainKey } from '../../domain/records.js'
import { type AuditWriter, type ChainHead, chainEvents } from '../audit-writer.js'
import type { SqliteConnection } from './open.js'

/**
 * The chain appender on SQLite: statements prepared once, run at once inside the group commit
 * that already holds the write lock (BEGIN IMMEDIATE), so the head needs no lock of its own.
 */
export function createSqliteAuditWriter(
  connection: SqliteConnection,
  key: () => AuditChainKey | undefined,
): AuditWriter {
  const readHead = connection.prepare(
    'select head_seq, head_hash, head_tag from audit_chain where id = 1',
  )
  const insert = connection.prepare(
    `insert into audit_events (seq, id, at, type, actor_type, actor_id, user_id, ip, user_agent,
      request_id, details, prev_hash, hash)
     values (@seq, @id, @at, @type, @actor_type, @actor_id, @user_id, @ip, @user_agent,
      @request_id, @details, @prev_hash, @hash)`,
  )
  const moveHead = connection.prepare(
    'update audit_chain set head_seq = ?, head_hash = ?, head_tag = ? where id = 1',
  )
  return (_trx, events) => {
    if (events.length === 0) return
    const head = readHead().get() as ChainHead | undefined
    if (head === undefined) throw new Error('audit_chain row is missing; run migrations')
    const chained = chainEvents(head, events, key())
    for (const row of chained.rows) insert().run(row)
    moveHead().run(chained.seq, chained.hash, chained.tag)
  }
}
