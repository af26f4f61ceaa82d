/** The source of time; injected so expiry, rotation and lockout are testable without sleeping. */
export interface Clock {
  now(): Date
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() }

/** A clock tests move by hand. */
export interface ManualClock extends Clock {
  set(date: Date): void
  advance(ms: number): void
}

/** Creates a clock that only moves when told to. */
export function createManualClock(start = new Date('2026-01-01T00:00:00Z')): ManualClock {
  let current = start.getTime()
  return {
    now: () => new Date(current),
    set: (date) => {
      current = date.getTime()
    },
    advance: (ms) => {
      current += ms
    },
  }
}
