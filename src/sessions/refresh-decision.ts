import { timingSafeEqual } from 'node:crypto'
import type { SessionRecord } from '../domain/records.js'
import { constantTimeEqual } from '../lib/constant-time.js'

/**
 * How many replaced refresh tokens a session remembers for reuse detection; one replaced longer
 * ago is just an unknown token (INVALID_TOKEN, the session lives on).
 */
export const FORMER_REFRESH_GENERATIONS = 32

/**
 * Hex characters kept of each former token's SHA-256: 128 bits. Matching a stored prefix without
 * the token is a second preimage of SHA-256 truncated to 128 bits, out of reach, and the prefixes
 * say no more about a token than the full hash already stored for the current one.
 */
const FORMER_HASH_CHARS = 32
const FORMER_HASH_BYTES = FORMER_HASH_CHARS / 2

/** What a presented refresh token of a known session means (SPEC §4.3). */
export type RefreshDecision = 'rotate' | 'grace' | 'replay' | 'reject'

/** The session fields the decision reads. */
export type RefreshState = Pick<
  SessionRecord,
  | 'refreshHash'
  | 'previousRefreshHash'
  | 'rotatedAt'
  | 'sealedRefreshToken'
  | 'formerRefreshHashes'
  | 'expiresAt'
  | 'revokedAt'
>

/** True while the session is neither revoked nor expired. */
export function isLive(
  session: Pick<SessionRecord, 'expiresAt' | 'revokedAt'>,
  now: Date,
): boolean {
  return session.revokedAt === null && session.expiresAt.getTime() > now.getTime()
}

/**
 * The current token rotates; the previous one inside the grace period gets the same new token;
 * any other token the session issued is a replay; a token it never issued (or forgot) is
 * rejected, so knowing a session id alone cannot revoke the session.
 */
export function decideRefresh(
  session: RefreshState,
  presentedHash: string,
  now: Date,
  graceSeconds: number,
): RefreshDecision {
  if (!isLive(session, now)) return 'reject'
  if (constantTimeEqual(presentedHash, session.refreshHash)) return 'rotate'
  const previous =
    session.previousRefreshHash !== null &&
    constantTimeEqual(presentedHash, session.previousRefreshHash)
  if (
    previous &&
    session.rotatedAt !== null &&
    session.sealedRefreshToken !== null &&
    now.getTime() - session.rotatedAt.getTime() <= graceSeconds * 1000
  ) {
    return 'grace'
  }
  if (previous || isFormerHash(session.formerRefreshHashes, presentedHash)) return 'replay'
  return 'reject'
}

/** The former-hash list after `replacedHash` is rotated away: it first, bounded. */
export function nextFormerHashes(former: string, replacedHash: string): string {
  return (replacedHash.slice(0, FORMER_HASH_CHARS) + former).slice(
    0,
    FORMER_REFRESH_GENERATIONS * FORMER_HASH_CHARS,
  )
}

/** Whether `hash` is in the list, comparing every entry in constant time. */
function isFormerHash(former: string, hash: string): boolean {
  const wanted = Buffer.from(hash.slice(0, FORMER_HASH_CHARS), 'hex')
  const list = Buffer.from(former, 'hex')
  if (wanted.length !== FORMER_HASH_BYTES) return false
  let found = false
  for (let at = 0; at + FORMER_HASH_BYTES <= list.length; at += FORMER_HASH_BYTES) {
    found = timingSafeEqual(list.subarray(at, at + FORMER_HASH_BYTES), wanted) || found
  }
  return found
}
