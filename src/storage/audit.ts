import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool } from 'kysely'
import { auditKeyCheck, createTagWalker, GENESIS_HASH, sealTag } from '../audit/chain.js'
import type { AuditQuery, Store } from '../domain/store.js'
import { countOf, guard, type StoreContext } from './context.js'
import { rowToAuditEvent, toMillis } from './row-mapping.js'
import type { AuditChainTable, AuditEventsTable, Database } from './schema.js'

/** Rows read per page when pruning walks the keyed tag over what it deletes. */
const PRUNE_BATCH = 1000

/** The audit trail: appends, queries, the chain's state, its seal and retention pruning. */
export function createAuditStore(
  ctx: StoreContext,
): Pick<
  Store,
  | 'appendAudit'
  | 'listAuditEvents'
  | 'readAuditChain'
  | 'auditChainState'
  | 'setAuditChainKey'
  | 'sealAuditChain'
  | 'pruneAudit'
> {
  const { db, dialect, chain, readSlow } = ctx

  /** The chain row, locked for the rest of `trx` where the dialect needs it. */
  function chainRow(trx: Kysely<Database>) {
    const row = trx.selectFrom('audit_chain').selectAll().where('id', '=', 1)
    return (dialect.lockChainRow ? row.forUpdate() : row).executeTakeFirstOrThrow()
  }

  /**
   * When pruning cuts into the keyed part of a sealed chain, the tag at the new anchor: walked
   * over the rows about to go, so verification can resume there without them.
   */
  async function keyedStartAfterPrune(
    trx: Kysely<Database>,
    state: Selectable<AuditChainTable>,
    cut: number,
  ): Promise<{ keyed_seq: number; keyed_tag: string } | Record<string, never>> {
    if (state.head_tag === null || state.keyed_seq === null || cut < Number(state.keyed_seq)) {
      return {}
    }
    const key = chain.key
    if (key === undefined) throw new Error('pruning a keyed audit chain needs the chain key')
    const walker = createTagWalker(key, {
      anchorSeq: Number(state.anchor_seq),
      anchorHash: state.anchor_hash,
      keyedSeq: Number(state.keyed_seq),
      keyedTag: state.keyed_tag,
    })
    let after = Number(state.anchor_seq)
    for (;;) {
      const rows = await trx
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('seq', '>', after)
        .where('seq', '<=', cut)
        .orderBy('seq', 'asc')
        .limit(PRUNE_BATCH)
        .execute()
      for (const row of rows) walker.step(Number(row.seq), row.hash)
      const last = rows.at(-1)
      if (last === undefined) break
      after = Number(last.seq)
    }
    const tag = walker.tag
    if (tag === undefined) throw new Error('the audit chain lost its keyed start; run audit verify')
    return { keyed_seq: cut, keyed_tag: tag }
  }

  function auditFilters(query: AuditQuery) {
    return (eb: ExpressionBuilder<Database, 'audit_events'>) => {
      const conditions: Expression<SqlBool>[] = []
      if (query.userId !== undefined) conditions.push(eb('user_id', '=', query.userId))
      if (query.type !== undefined) conditions.push(eb('type', '=', query.type))
      if (query.since !== undefined) conditions.push(eb('at', '>=', toMillis(query.since)))
      if (query.until !== undefined) conditions.push(eb('at', '<=', toMillis(query.until)))
      return eb.and(conditions)
    }
  }

  return {
    appendAudit: (events) =>
      dialect.transaction(async (trx) => {
        await ctx.appendAudit(trx, events)
      }),

    listAuditEvents: (query) =>
      guard(async () => {
        const where = auditFilters(query)
        const [rows, count] = await readSlow([
          db
            .selectFrom('audit_events')
            .selectAll()
            .where(where)
            .orderBy('seq', 'desc')
            .limit(query.limit)
            .offset(query.offset)
            .compile(),
          db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .where(where)
            .compile(),
        ])
        return {
          items: (rows as Selectable<AuditEventsTable>[]).map(rowToAuditEvent),
          total: countOf(count),
        }
      }),

    readAuditChain: (afterSeq, limit) =>
      guard(async () => {
        const rows = await db
          .selectFrom('audit_events')
          .selectAll()
          .where('seq', '>', afterSeq)
          .orderBy('seq', 'asc')
          .limit(limit)
          .execute()
        return rows.map(rowToAuditEvent)
      }),

    auditChainState: () =>
      guard(async () => {
        const row = await db
          .selectFrom('audit_chain')
          .selectAll()
          .where('id', '=', 1)
          .executeTakeFirst()
        if (row === undefined) {
          return {
            headSeq: 0,
            headHash: GENESIS_HASH,
            anchorSeq: 0,
            anchorHash: GENESIS_HASH,
            headTag: null,
            keyedSeq: null,
            keyedTag: null,
            keyCheck: null,
          }
        }
        return {
          headSeq: Number(row.head_seq),
          headHash: row.head_hash,
          anchorSeq: Number(row.anchor_seq),
          anchorHash: row.anchor_hash,
          headTag: row.head_tag,
          keyedSeq: row.keyed_seq === null ? null : Number(row.keyed_seq),
          keyedTag: row.keyed_tag,
          keyCheck: row.key_check,
        }
      }),

    setAuditChainKey: (key) => {
      chain.key = key
    },

    sealAuditChain: () =>
      dialect.transaction(async (trx) => {
        const key = chain.key
        if (key === undefined) throw new Error('sealing the audit chain needs a chain key')
        const state = await chainRow(trx)
        if (state.head_tag !== null) return false
        const seq = Number(state.head_seq)
        await trx
          .updateTable('audit_chain')
          .set({
            head_tag: sealTag(key, seq, state.head_hash),
            keyed_seq: seq,
            keyed_tag: null,
            key_check: auditKeyCheck(key),
          })
          .where('id', '=', 1)
          .execute()
        return true
      }),

    pruneAudit: (before) =>
      dialect.transaction(async (trx) => {
        const state = await chainRow(trx)
        // Only a prefix of the chain is ever cut, so what remains still verifies from the
        // anchor even if a clock stepped back and an older `at` sits after a newer one.
        const firstKept = await trx
          .selectFrom('audit_events')
          .select((eb) => eb.fn.min<number | string | null>('seq').as('seq'))
          .where('at', '>=', toMillis(before))
          .executeTakeFirstOrThrow()
        const lastCut = firstKept.seq === null ? Number(state.head_seq) : Number(firstKept.seq) - 1
        if (lastCut <= Number(state.anchor_seq)) return 0
        const anchor = await trx
          .selectFrom('audit_events')
          .select(['seq', 'hash'])
          .where('seq', '<=', lastCut)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst()
        if (anchor === undefined) return 0
        const cut = Number(anchor.seq)
        const keyed = await keyedStartAfterPrune(trx, state, cut)
        const deleted = await trx
          .deleteFrom('audit_events')
          .where('seq', '<=', cut)
          .executeTakeFirst()
        await trx
          .updateTable('audit_chain')
          .set({ anchor_seq: cut, anchor_hash: anchor.hash, ...keyed })
          .where('id', '=', 1)
          .execute()
        return Number(deleted.numDeletedRows)
      }),
  }
}
