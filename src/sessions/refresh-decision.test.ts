import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decideRefresh,
  FORMER_REFRESH_GENERATIONS,
  nextFormerHashes,
  type RefreshState,
} from './refresh-decision.js'

const GRACE_SECONDS = 10
const T0 = Date.parse('2026-03-01T12:00:00Z')
const hashOf = (n: number) => createHash('sha256').update(`token-${n}`).digest('hex')

/** A session that logged in with token 0 and rotated `rotations` times, the last at T0. */
function rotated(rotations: number): RefreshState {
  let state: RefreshState = {
    refreshHash: hashOf(0),
    previousRefreshHash: null,
    rotatedAt: null,
    sealedRefreshToken: null,
    formerRefreshHashes: '',
    expiresAt: new Date(T0 + 86_400_000),
    revokedAt: null,
  }
  for (let n = 1; n <= rotations; n++) {
    state = {
      ...state,
      refreshHash: hashOf(n),
      previousRefreshHash: state.refreshHash,
      rotatedAt: new Date(T0),
      sealedRefreshToken: 'sealed',
      formerRefreshHashes: nextFormerHashes(state.formerRefreshHashes, state.refreshHash),
    }
  }
  return state
}

describe('decideRefresh', () => {
  it('rotates the current token, graces the previous one, detects remembered ones, rejects the rest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: FORMER_REFRESH_GENERATIONS + 5 }),
        fc.integer({ min: -2, max: FORMER_REFRESH_GENERATIONS + 8 }),
        fc.integer({ min: 0, max: 3 * GRACE_SECONDS * 1000 }),
        (rotations, presented, elapsed) => {
          const now = new Date(T0 + elapsed)
          const back = rotations - presented
          // Negative indexes and indexes past the current one stand for tokens never issued.
          const issued = presented >= 0 && back >= 0
          const expected = !issued
            ? 'reject'
            : back === 0
              ? 'rotate'
              : back === 1 && elapsed <= GRACE_SECONDS * 1000
                ? 'grace'
                : back <= FORMER_REFRESH_GENERATIONS
                  ? 'replay'
                  : 'reject'
          expect(decideRefresh(rotated(rotations), hashOf(presented), now, GRACE_SECONDS)).toBe(
            expected,
          )
        },
      ),
    )
  })

  it('rejects every token of a revoked or expired session', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        (rotations, presented, revoked) => {
          const live = rotated(rotations)
          const dead = revoked
            ? { ...live, revokedAt: new Date(T0) }
            : { ...live, expiresAt: new Date(T0) }
          expect(decideRefresh(dead, hashOf(presented), new Date(T0), GRACE_SECONDS)).toBe('reject')
        },
      ),
    )
  })

  it('still detects the previous token of a session migrated without former hashes', () => {
    const migrated = { ...rotated(3), formerRefreshHashes: '' }
    expect(decideRefresh(migrated, hashOf(2), new Date(T0 + 60_000), GRACE_SECONDS)).toBe('replay')
    expect(decideRefresh(migrated, hashOf(1), new Date(T0 + 60_000), GRACE_SECONDS)).toBe('reject')
  })

  it('keeps the former list bounded, newest first', () => {
    const state = rotated(FORMER_REFRESH_GENERATIONS + 3)
    expect(state.formerRefreshHashes).toHaveLength(FORMER_REFRESH_GENERATIONS * 32)
    expect(
      state.formerRefreshHashes.startsWith(hashOf(FORMER_REFRESH_GENERATIONS + 2).slice(0, 32)),
    ).toBe(true)
  })
})
