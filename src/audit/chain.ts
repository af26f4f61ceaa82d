import { createHash } from 'node:crypto'
import type { AuditEventInput } from '../storage/records.js'

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
