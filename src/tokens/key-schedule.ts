import type { SigningKeyRecord } from '../domain/records.js'
import type { KeyRotation } from '../domain/store.js'

// Pure life-cycle decisions over signing keys (STYLE habit 6); the keyring does the I/O.

/** The JWKS `Cache-Control: max-age` (SPEC §4.2). */
export const JWKS_MAX_AGE_SECONDS = 300

/** How often every instance re-reads the key set from the database. */
export const KEY_RELOAD_SECONDS = 10

/**
 * How long a new key is published before it signs: one JWKS max-age after the slowest instance
 * can have picked it up, so no validator caching a JWKS meets a kid it has never seen.
 */
export const PUBLISH_LEAD_SECONDS = JWKS_MAX_AGE_SECONDS + KEY_RELOAD_SECONDS

/**
 * Extra life of a retired key beyond the last token it signed: covers instances that still sign
 * with it until their next reload (30 s) plus validators' clock tolerance.
 */
export const RETIRE_MARGIN_SECONDS = 60

/** The time-bearing columns of a key; what the decisions below look at. */
export type KeyTimes = Pick<
  SigningKeyRecord,
  'kid' | 'algorithm' | 'createdAt' | 'activatesAt' | 'expiresAt'
>

/** Where a key is in its life at an instant. */
export type KeyStatus = 'next' | 'current' | 'retired'

const time = (d: Date | null | undefined) => d?.getTime() ?? Number.NaN

/**
 * The key that signs at `now`: the latest `activatesAt <= now`. When none has activated yet (this
 * instance's clock is a little behind the one that bootstrapped), the earliest scheduled one.
 */
export function selectSigningKey<K extends KeyTimes>(keys: readonly K[], now: Date): K | undefined {
  let best: K | undefined
  let earliest: K | undefined
  for (const key of keys) {
    const at = time(key.activatesAt)
    if (Number.isNaN(at)) continue
    if (at <= now.getTime() && (!best || at > time(best.activatesAt))) best = key
    if (!earliest || at < time(earliest.activatesAt)) earliest = key
  }
  return best ?? earliest
}

/** The key with the latest `activatesAt`, even in the future: the last one ever scheduled to sign. */
export function latestScheduledKey<K extends KeyTimes>(keys: readonly K[]): K | undefined {
  let latest: K | undefined
  for (const key of keys) {
    if (key.activatesAt && (!latest || time(key.activatesAt) > time(latest.activatesAt))) {
      latest = key
    }
  }
  return latest
}

/** The pre-published next key (`activatesAt` null); the newest if there were ever several. */
export function nextKey<K extends KeyTimes>(keys: readonly K[]): K | undefined {
  let next: K | undefined
  for (const key of keys) {
    if (key.activatesAt === null && (!next || time(key.createdAt) > time(next.createdAt))) {
      next = key
    }
  }
  return next
}

/** True while a validator may meet the key: not retired, or retired but not yet expired. */
export function isPublished(key: KeyTimes, now: Date): boolean {
  return key.expiresAt === null || key.expiresAt.getTime() > now.getTime()
}

/**
 * The first instant after `now` at which a key activates or expires: until then which keys are
 * published, their order and the signing key stay the same (Infinity when nothing is scheduled).
 */
export function nextScheduleChange(keys: readonly KeyTimes[], now: Date): number {
  const at = now.getTime()
  let next = Number.POSITIVE_INFINITY
  for (const key of keys) {
    for (const instant of [key.activatesAt, key.expiresAt]) {
      const t = instant?.getTime()
      if (t !== undefined && t > at && t < next) next = t
    }
  }
  return next
}

/** The status of `key` at `now` given the key that signs then. */
export function keyStatus(key: KeyTimes, signing: KeyTimes | undefined, now: Date): KeyStatus {
  if (key.kid === signing?.kid) return 'current'
  if (key.activatesAt === null || key.activatesAt.getTime() > now.getTime()) return 'next'
  return 'retired'
}

/**
 * Orders keys for the JWKS and `keys list`, deterministically: current; then next keys in the
 * order they will sign (scheduled before unscheduled); then retired keys, most recent first.
 */
export function orderKeys<K extends KeyTimes>(keys: readonly K[], now: Date): K[] {
  const signing = selectSigningKey(keys, now)
  const rank: Record<KeyStatus, number> = { current: 0, next: 1, retired: 2 }
  const sortTime = (k: K, status: KeyStatus) => {
    const at = k.activatesAt?.getTime() ?? Number.POSITIVE_INFINITY
    return status === 'retired' ? -at : at
  }
  return keys
    .map((key) => ({ key, status: keyStatus(key, signing, now) }))
    .sort(
      (a, b) =>
        rank[a.status] - rank[b.status] ||
        sortTime(a.key, a.status) - sortTime(b.key, b.status) ||
        time(b.key.createdAt) - time(a.key.createdAt) ||
        (a.key.kid < b.key.kid ? -1 : 1),
    )
    .map((entry) => entry.key)
}

/**
 * Plans a rotation (SPEC §4.2): the next key activates at the earliest when it has been published
 * for one JWKS max-age, and after every key already scheduled; the last scheduled key (the one
 * signing until then) is retired until every token it can have signed has expired. Undefined when
 * there is no next key to activate.
 */
export function planRotation(
  keys: readonly KeyTimes[],
  now: Date,
  accessTtlSeconds: number,
): Omit<KeyRotation, 'newNext'> | undefined {
  const next = nextKey(keys)
  if (!next) return undefined
  const retiring = latestScheduledKey(keys)
  const activatesAt = Math.max(
    now.getTime(),
    next.createdAt.getTime() + PUBLISH_LEAD_SECONDS * 1000,
    retiring?.activatesAt ? retiring.activatesAt.getTime() + 1 : 0,
  )
  return {
    nextKid: next.kid,
    activatesAt: new Date(activatesAt),
    retiringKid: retiring?.kid ?? null,
    retiredExpiresAt: new Date(activatesAt + (accessTtlSeconds + RETIRE_MARGIN_SECONDS) * 1000),
  }
}

/**
 * True when the last scheduled key has been (or will have been) signing for `rotationDays` at
 * `now`; 0 days disables rotation. A pending rotation counts, so it is never rotated twice.
 */
export function isRotationDue(keys: readonly KeyTimes[], now: Date, rotationDays: number): boolean {
  if (rotationDays <= 0) return false
  const latest = latestScheduledKey(keys)
  if (!latest?.activatesAt) return false
  return latest.activatesAt.getTime() + rotationDays * 86_400_000 <= now.getTime()
}
