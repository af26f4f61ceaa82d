import { LRUCache } from 'lru-cache'
import { deepFreeze } from '../../lib/freeze.js'

/** Entries kept at most; the least recently used goes first. */
const DEFAULT_CAPACITY = 10_000

/**
 * Remembers the answers of hot point lookups — an API key by its hash, a session with its
 * user — for exactly as long as the database has not changed, so an authenticated request
 * need not read SQLite. `changeStamp` tells when it may have (any write here, any
 * commit elsewhere); then everything is forgotten at once, so a revoked key, a logged-out
 * session or a deactivated user is refused on the very next request, in every process that
 * shares the file, with no lag to tune. Only found rows are kept (a miss proves nothing worth
 * the room). What it returns is frozen, cached or not, so no caller can alter what the next one
 * reads.
 */
export function createLookupCache<V extends object>(
  changeStamp: () => number,
  capacity = DEFAULT_CAPACITY,
) {
  let stamp = Number.NaN
  // maxSize with a unit size rather than max: lru-cache preallocates every slot for `max`.
  const entries = new LRUCache<string, V>({ maxSize: capacity, sizeCalculation: () => 1 })

  return async function lookup(
    key: string,
    load: () => Promise<V | undefined>,
  ): Promise<V | undefined> {
    const before = changeStamp()
    if (before !== stamp) {
      entries.clear()
      stamp = before
    } else {
      const hit = entries.get(key)
      if (hit !== undefined) return hit
    }
    const value = await load()
    if (value === undefined) return undefined
    deepFreeze(value)
    // Kept under the stamp read before the load: if anything changed since (even during the
    // read), the next lookup sees a different stamp and drops it unused.
    if (stamp !== before) return value
    entries.set(key, value)
    return value
  }
}
