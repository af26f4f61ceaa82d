import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { AuditChainKey, AuditEventInput } from '../domain/records.js'

/** The `prevHash` of the first event ever written. */
export const GENESIS_HASH = '0'.repeat(64)

/**
 * The hash of one audit event, chained to its predecessor: SHA-256 over the previous hash and a
 * canonical JSON of every stored field, so editing any column or deleting a row breaks the chain.
 */
export function computeAuditHash(prevHash: string, seq: number, event: AuditEventInput): string {
  const canonical = JSON.stringify([
    seq,
    event.id,
    event.at.toISOString(),
    event.type,
    event.actor.type,
    event.actor.id,
    event.userId,
    event.ip,
    event.userAgent,
    event.requestId,
    canonicalize(event.details),
  ])
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex')
}

/** Sorts object keys recursively so equal details always serialise the same way. */
export function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonicalize((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

const CHAIN_KEY_INFO = 'users-core audit chain key v1'
const DERIVED_KEY_INFO = 'users-core audit chain key from jwt.key_encryption_secret v1'
const KEY_CHECK_INPUT = 'users-core audit chain key check v1'
const SEAL_PREFIX = 'users-core audit chain seal v1\n'

/**
 * The chain key: HKDF-SHA256 of `audit.chain_key`, else of `jwt.key_encryption_secret` with its
 * own info string (so the two never yield the same key), else none: the chain stays unkeyed.
 */
export function deriveAuditChainKey(config: {
  audit: { chain_key?: string | undefined }
  jwt: { key_encryption_secret?: string | undefined }
}): AuditChainKey | undefined {
  const own = config.audit.chain_key
  if (own !== undefined) return Buffer.from(hkdfSync('sha256', own, '', CHAIN_KEY_INFO, 32))
  const shared = config.jwt.key_encryption_secret
  if (shared !== undefined) return Buffer.from(hkdfSync('sha256', shared, '', DERIVED_KEY_INFO, 32))
  return undefined
}

/** Stored beside the chain so a different key is refused at start, not found at verify. */
export function auditKeyCheck(key: AuditChainKey): string {
  return createHmac('sha256', key).update(KEY_CHECK_INPUT).digest('hex')
}

/** The tag of the chain at the event where keying started (the seal of a checkpoint). */
export function sealTag(key: AuditChainKey, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`${SEAL_PREFIX}${seq}\n${hash}`).digest('hex')
}

/**
 * The tag after one more event: HMAC over the previous tag and the event's hash. Only the head
 * keeps the tag, so no stored row lets a truncated chain claim an earlier event as its end.
 */
export function nextTag(key: AuditChainKey, tag: string, hash: string): string {
  return createHmac('sha256', key).update(`${tag}\n${hash}`).digest('hex')
}

/** Where the keyed part of the chain starts, as recorded beside the chain. */
export interface TagStart {
  anchorSeq: number
  anchorHash: string
  keyedSeq: number | null
  /** The tag at `keyedSeq` when pruning moved past the seal (null: the seal itself). */
  keyedTag: string | null
}

/** Follows the tag from the anchor: undefined until the walk reaches the keyed part. */
export function createTagWalker(key: AuditChainKey, start: TagStart) {
  let tag =
    start.keyedSeq === start.anchorSeq
      ? (start.keyedTag ?? sealTag(key, start.anchorSeq, start.anchorHash))
      : undefined
  return {
    step(seq: number, hash: string): void {
      if (seq === start.keyedSeq) tag = sealTag(key, seq, hash)
      else if (tag !== undefined) tag = nextTag(key, tag, hash)
    },
    get tag(): string | undefined {
      return tag
    },
  }
}

/** Constant-time equality of two hex tags. */
export function sameTag(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}
