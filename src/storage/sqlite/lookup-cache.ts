import { deepFreeze } from '../../lib/freeze.js'

/** Entries kept at most; the oldest goes first. */
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
  const entries = new Map<string, V>()

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
    if (entries.size >= capacity) {
      const oldest = entries.keys().next()
      if (!oldest.done) entries.delete(oldest.value)
    }
    entries.set(key, value)
    return value
  }
}
