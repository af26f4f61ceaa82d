import { LRUCache } from 'lru-cache'

/** `last_used_at` is written at most once a minute per credential, not on every use. */
const STAMP_INTERVAL_MS = 60_000
/** Credentials whose last write this process remembers; a forgotten one falls back to its stored time. */
const REMEMBERED = 100_000

/**
 * Throttled `last_used_at` writes for credentials used on every request (API keys, SIP
 * credentials): `stamp` writes in the background when the last write is a minute old.
 */
export function createUseStamp(options: {
  write(id: string, at: Date, staleBefore: Date): Promise<void>
  onError(error: unknown): void
}) {
  // Sized rather than `max`: lru-cache allocates `max` slots up front, and most services hold few.
  const lastWritten = new LRUCache<string, number>({
    maxSize: REMEMBERED,
    sizeCalculation: () => 1,
  })
  return {
    stamp(id: string, storedLastUsedAt: Date | null, now: Date): void {
      const last = lastWritten.get(id) ?? storedLastUsedAt?.getTime() ?? 0
      if (now.getTime() - last < STAMP_INTERVAL_MS) return
      lastWritten.set(id, now.getTime())
      options
        .write(id, now, new Date(now.getTime() - STAMP_INTERVAL_MS))
        .catch((error: unknown) => options.onError(error))
    },
  }
}
