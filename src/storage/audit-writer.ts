import type { Kysely } from 'kysely'
import { computeAuditHash, nextTag } from '../audit/chain.js'
import type { AuditChainKey, AuditEventInput } from '../domain/records.js'
import { type Param, prepareQuery } from './prepared.js'
import type { Database } from './schema.js'

/** Appends audit events to the hash chain inside the caller's transaction. */
export type AuditWriter = (
  trx: Kysely<Database>,
  events: readonly AuditEventInput[],
) => Promise<void>

/**
 * Creates the chain appender for `db`. Inside the transaction it reads the chain head (PostgreSQL
 * locks the row with FOR UPDATE, so concurrent writers queue on it; SQLite already holds the
 * write lock of BEGIN IMMEDIATE), numbers the events head+1.., hashes each onto the previous one,
 * inserts them and moves the head. Call it last in a transaction so the row lock is held briefly.
 * With `key()` set and the chain sealed, each event also moves the head's HMAC tag: one HMAC an
 * event, in the same statements as before.
 */
export function createAuditWriter(
  db: Kysely<Database>,
  lockChainRow: boolean,
  key: () => AuditChainKey | undefined,
): AuditWriter {
  const readHead = prepareQuery(() => {
    const head = db
      .selectFrom('audit_chain')
      .select(['head_seq', 'head_hash', 'head_tag'])
      .where('id', '=', 1)
    return lockChainRow ? head.forUpdate() : head
  })
  const moveHead = prepareQuery(
    (headSeq: Param<number>, headHash: Param<string>, headTag: Param<string | null>) =>
      db
        .updateTable('audit_chain')
        .set({ head_seq: headSeq, head_hash: headHash, head_tag: headTag })
        .where('id', '=', 1),
  )
  // One event per change is the common case (every login, every refresh): compiled once.
  const insertOne = prepareQuery(
    (
      seq: Param<number>,
      id: Param<string>,
      at: Param<number>,
      type: Param<string>,
      actorType: Param<string>,
      actorId: Param<string | null>,
      userId: Param<string | null>,
      ip: Param<string | null>,
      userAgent: Param<string | null>,
      requestId: Param<string | null>,
      details: Param<string>,
      prevHash: Param<string>,
      hash: Param<string>,
    ) =>
      db.insertInto('audit_events').values({
        seq,
        id,
        at,
        type,
        actor_type: actorType,
        actor_id: actorId,
        user_id: userId,
        ip,
        user_agent: userAgent,
        request_id: requestId,
        details,
        prev_hash: prevHash,
        hash,
      }),
  )

  return async (trx, events) => {
    if (events.length === 0) return
    const row = (await trx.executeQuery(readHead())).rows[0]
    if (row === undefined) throw new Error('audit_chain row is missing; run migrations')
    let seq = Number(row.head_seq)
    let prevHash = row.head_hash
    const chainKey = key()
    // A sealed chain without the key cannot be extended honestly: the tag is dropped, and verify
    // reports the chain as no longer sealed.
    let tag = chainKey === undefined ? null : row.head_tag
    const rows = events.map((event) => {
      // Hash exactly what a reader will parse back, so verification recomputes the same value
      // (a Date or undefined inside details would otherwise hash differently after storage).
      const details = JSON.parse(JSON.stringify(event.details ?? {})) as Record<string, unknown>
      seq += 1
      const hash = computeAuditHash(prevHash, seq, { ...event, details })
      const out = {
        seq,
        id: event.id,
        at: event.at.getTime(),
        type: event.type,
        actor_type: event.actor.type,
        actor_id: event.actor.id,
        user_id: event.userId,
        ip: event.ip,
        user_agent: event.userAgent,
        request_id: event.requestId,
        details: JSON.stringify(details),
        prev_hash: prevHash,
        hash,
      }
      prevHash = hash
      if (tag !== null && chainKey !== undefined) tag = nextTag(chainKey, tag, hash)
      return out
    })
    const [only] = rows
    if (rows.length === 1 && only) {
      await trx.executeQuery(
        insertOne(
          only.seq,
          only.id,
          only.at,
          only.type,
          only.actor_type,
          only.actor_id,
          only.user_id,
          only.ip,
          only.user_agent,
          only.request_id,
          only.details,
          only.prev_hash,
          only.hash,
        ),
      )
    } else {
      await trx.insertInto('audit_events').values(rows).execute()
    }
    await trx.executeQuery(moveHead(seq, prevHash, tag))
  }
}
