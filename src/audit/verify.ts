import type { AuditChainState, Store } from '../storage/store.js'
import type { AuditVerification } from '../types.js'
import { computeAuditHash } from './chain.js'

const BATCH = 1000

/**
 * Walks the chain from the retention anchor to the head, recomputing every hash: an edited row
 * changes its hash, a deleted row breaks the seq sequence or the prev-hash link, a deleted tail
 * no longer reaches the head recorded beside the chain.
 */
export async function verifyAuditChain(store: Store): Promise<AuditVerification> {
  const state: AuditChainState = await store.auditChainState()
  let expectedSeq = state.anchorSeq + 1
  let prevHash = state.anchorHash
  let checked = 0
  const fail = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    checked,
    problem: { seq, reason },
    state,
  })
  for (;;) {
    const rows = await store.readAuditChain(expectedSeq - 1, BATCH)
    if (rows.length === 0) break
    for (const row of rows) {
      if (row.seq !== expectedSeq) return fail(expectedSeq, 'event missing (gap in sequence)')
      if (row.prevHash !== prevHash) return fail(row.seq, 'previous-hash link broken')
      if (computeAuditHash(prevHash, row.seq, row) !== row.hash) {
        return fail(row.seq, 'event content does not match its hash')
      }
      prevHash = row.hash
      expectedSeq++
      checked++
    }
  }
  if (expectedSeq - 1 !== state.headSeq || prevHash !== state.headHash) {
    return fail(expectedSeq, 'chain ends before the recorded head (events deleted)')
  }
  return { ok: true, checked, state }
}
