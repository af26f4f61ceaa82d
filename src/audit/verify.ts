import type { AuditChainKey } from '../domain/records.js'
import type { AuditChainState, Store } from '../domain/store.js'
import type { AuditVerification } from '../types.js'
import { auditKeyCheck, computeAuditHash, createTagWalker, sameTag } from './chain.js'

const BATCH = 1000

/**
 * Walks the chain from the retention anchor to the head, recomputing every hash: an edited row
 * changes its hash, a deleted row breaks the seq sequence or the prev-hash link, a deleted tail
 * no longer reaches the head recorded beside the chain. With the chain key it also recomputes
 * the head's HMAC tag over every hash since the seal, which nobody without the key can forge
 * after rewriting rows, the anchor or the head (the unkeyed checks alone can all be re-done).
 */
export async function verifyAuditChain(
  store: Store,
  key: AuditChainKey | undefined,
): Promise<AuditVerification> {
  const state: AuditChainState = await store.auditChainState()
  const sealed = state.headTag !== null
  const keyed = key !== undefined && sealed
  let expectedSeq = state.anchorSeq + 1
  let prevHash = state.anchorHash
  let checked = 0
  const fail = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    keyed,
    checked,
    problem: { seq, reason },
    state,
  })
  if (
    key !== undefined &&
    state.keyCheck !== null &&
    !sameTag(state.keyCheck, auditKeyCheck(key))
  ) {
    return fail(state.headSeq, 'the chain was sealed with a different key')
  }
  const walker = key !== undefined && sealed ? createTagWalker(key, state) : undefined
  for (;;) {
    const rows = await store.readAuditChain(expectedSeq - 1, BATCH)
    if (rows.length === 0) break
    for (const row of rows) {
      if (row.seq !== expectedSeq) return fail(expectedSeq, 'event missing (gap in sequence)')
      if (row.prevHash !== prevHash) return fail(row.seq, 'previous-hash link broken')
      if (computeAuditHash(prevHash, row.seq, row) !== row.hash) {
        return fail(row.seq, 'event content does not match its hash')
      }
      walker?.step(row.seq, row.hash)
      prevHash = row.hash
      expectedSeq++
      checked++
    }
  }
  if (expectedSeq - 1 !== state.headSeq || prevHash !== state.headHash) {
    return fail(expectedSeq, 'chain ends before the recorded head (events deleted)')
  }
  if (key === undefined) {
    if (sealed) return fail(state.headSeq, 'the chain is sealed but no chain key is configured')
    return { ok: true, keyed: false, checked, state }
  }
  if (!sealed) {
    return fail(
      state.headSeq,
      'the chain is not sealed with the chain key (if it never was: users-core audit seal)',
    )
  }
  const tag = walker?.tag
  if (tag === undefined || state.headTag === null || !sameTag(tag, state.headTag)) {
    return fail(
      state.headSeq,
      'the chain does not match its sealed head (events edited or deleted)',
    )
  }
  return { ok: true, keyed: true, checked, state }
}
