import type { Insertable, Kysely } from 'kysely'
import { computeAuditHash, nextTag } from '../audit/chain.js'
import type { AuditChainKey, AuditEventInput } from '../domain/records.js'
import { type Param, prepareQuery } from './prepared.js'
import type { AuditEventsTable, Database } from './schema.js'

/**
 * Appends audit events to the hash chain inside the caller's transaction. SQLite's runs its
 * statements at once (a throw is its failure); PostgreSQL's is asynchronous: await either.
 */
export type AuditWriter = (
  trx: Kysely<Database>,
  events: readonly AuditEventInput[],
) => void | Promise<void>

/** The chain head as stored. */
export interface ChainHead {
  head_seq: number | string
  head_hash: string
  head_tag: string | null
}

/** One audit_events row as inserted. */
export type AuditRow = Insertable<AuditEventsTable> & {
  seq: number
  at: number
  actor_id: string | null
  user_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
}

/**
 * The rows of `events` chained onto `head`, numbered head+1.., each hashed onto the previous
 * one, and the head after them. With `key` set and the chain sealed, each event also moves the
 * head's HMAC tag; a sealed chain without the key cannot be extended honestly, so the tag is
 * dropped and verify reports the chain as no longer sealed.
 */
export function chainEvents(
  head: ChainHead,
  events: readonly AuditEventInput[],
  key: AuditChainKey | undefined,
): { rows: AuditRow[]; seq: number; hash: string; tag: string | null } {
  let seq = Number(head.head_seq)
  let prevHash = head.head_hash
  let tag = key === undefined ? null : head.head_tag
  const rows = events.map((event): AuditRow => {
    // Hash exactly what a reader will parse back, so verification recomputes the same value
    // (a Date or undefined inside details would otherwise hash differently after storage).
    const stored = JSON.stringify(event.details ?? {})
    const details = JSON.parse(stored) as Record<string, unknown>
    seq += 1
    const hash = computeAuditHash(prevHash, seq, { ...event, details })
    const row: AuditRow = {
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
      details: stored,
      prev_hash: prevHash,
      hash,
    }
    prevHash = hash
    if (tag !== null && key !== undefined) tag = nextTag(key, tag, hash)
    return row
  })
  return { rows, seq, hash: prevHash, tag }
}

/**
 * The chain appender over Kysely (PostgreSQL). Inside the transaction it reads the chain head
 * (locked FOR UPDATE where `lockChainRow`, so concurrent writers queue on it), inserts the
 * chained rows and moves the head. Call it last in a transaction so the row lock is held briefly.
 */
export function createKyselyAuditWriter(
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
    const head = (await trx.executeQuery(readHead())).rows[0]
    if (head === undefined) throw new Error('audit_chain row is missing; run migrations')
    const chained = chainEvents(head, events, key())
    const [only] = chained.rows
    if (chained.rows.length === 1 && only) {
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
      await trx.insertInto('audit_events').values(chained.rows).execute()
    }
    await trx.executeQuery(moveHead(chained.seq, chained.hash, chained.tag))
  }
}
