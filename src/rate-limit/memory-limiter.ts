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
 * keys are evicted beyond `maxKeys`, and expiry is checked on read instead of by a timer per key.
 */
class BoundedStorage {
  readonly entries = new Map<string, Entry>()

  constructor(private readonly maxKeys: number) {}

  incrby(key: string, value: number, durationSec: number): RateLimiterRes {
    const entry = this.live(key)
    if (!entry) return this.set(key, value, durationSec)
    entry.value += value
    return new RateLimiterRes(0, msBefore(entry), entry.value, false)
  }

  set(key: string, value: number, durationSec: number): RateLimiterRes {
    const durationMs = durationSec * 1000
    this.entries.delete(key)
    if (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
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

  /** The unexpired entry, moved to the most recently used end. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) return undefined
    this.entries.set(key, entry)
    return entry
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
