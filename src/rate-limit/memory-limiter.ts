import { LRUCache } from 'lru-cache'
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'

/**
 * Keys one in-memory limiter holds at most. Failures that reach the lockout cost a hash each, so
 * at the default Argon2 cost far fewer than this are live within one `lockout_seconds`: filling
 * the map to evict an entry takes longer than waiting for the entry to expire.
 */
export const DEFAULT_MAX_KEYS = 100_000

interface Entry {
  value: number
  /** Epoch ms; null = never. */
  expiresAt: number | null
}

/**
 * The store interface `RateLimiterMemory` keeps in `_memoryStorage`, bounded: least recently used
 * keys are evicted beyond `maxKeys`, and expiry is checked on read instead of by a timer per key
 * (here, not with lru-cache's ttl: rate-limiter-flexible's entries end at their duration, not 1 ms
 * after it).
 */
class BoundedStorage {
  readonly entries: LRUCache<string, Entry>

  constructor(maxKeys: number) {
    // Sized rather than `max`: lru-cache allocates `max` slots up front, and most limiters stay
    // nearly empty.
    this.entries = new LRUCache({ maxSize: maxKeys, sizeCalculation: () => 1 })
  }

  incrby(key: string, value: number, durationSec: number): RateLimiterRes {
    const entry = this.live(key)
    if (!entry) return this.set(key, value, durationSec)
    entry.value += value
    return new RateLimiterRes(0, msBefore(entry), entry.value, false)
  }

  set(key: string, value: number, durationSec: number): RateLimiterRes {
    const durationMs = durationSec * 1000
    this.entries.set(key, { value, expiresAt: durationMs > 0 ? Date.now() + durationMs : null })
    return new RateLimiterRes(0, durationMs > 0 ? durationMs : -1, value, true)
  }

  get(key: string): RateLimiterRes | null {
    const entry = this.live(key)
    return entry ? new RateLimiterRes(0, msBefore(entry), entry.value, false) : null
  }

  delete(key: string): boolean {
    return this.entries.delete(key)
  }

  /** The unexpired entry, now the most recently used. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined || entry.expiresAt === null || entry.expiresAt > Date.now()) {
      return entry
    }
    this.entries.delete(key)
    return undefined
  }
}

function msBefore(entry: Entry): number {
  return entry.expiresAt === null ? -1 : entry.expiresAt - Date.now()
}

/**
 * rate-limiter-flexible's memory limiter over a bounded store. Its own store keeps every key
 * (attacker-chosen: an IP, a username) with a timer until it expires, without limit.
 */
export class BoundedMemoryLimiter extends RateLimiterMemory {
  private readonly storage: BoundedStorage

  constructor(
    options: ConstructorParameters<typeof RateLimiterMemory>[0],
    maxKeys = DEFAULT_MAX_KEYS,
  ) {
    super(options)
    this.storage = new BoundedStorage(maxKeys)
    // The one seam of RateLimiterMemory: every operation goes through this object.
    ;(this as unknown as { _memoryStorage: BoundedStorage })._memoryStorage = this.storage
  }

  /** Keys currently held (expired ones included until they are read or evicted). */
  get keyCount(): number {
    return this.storage.entries.size
  }
}
