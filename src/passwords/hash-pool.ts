import { UsersError } from '../errors.js'

/** How long one job waited for a slot and then ran, in milliseconds. */
export interface HashJobTiming {
  waitMs: number
  durationMs: number
}

/** Options of {@link createHashPool}. */
export interface HashPoolOptions {
  /** Jobs running at once (at least 1). */
  maxConcurrent: number
  /** Jobs waiting for a slot; one more is rejected with OVERLOADED (0 = never wait). */
  maxQueued: number
  /** Called once per finished job, success or failure. */
  onJob?: (timing: HashJobTiming) => void
  /** Monotonic milliseconds; injectable so tests can control timings. */
  now?: () => number
}

/** Gauges of a pool: jobs running and jobs waiting. */
export interface HashPoolStats {
  active: number
  queued: number
  /** Every slot busy and the queue full: a new job would be refused now. */
  full: boolean
}

/** A bounded-concurrency, bounded-queue runner that fails fast when full (SPEC §6.3). */
export interface HashPool {
  /**
   * Runs `job` when a slot is free. When every slot is busy and the queue is full, the returned
   * promise rejects with `OVERLOADED` at once and `job` is never called.
   */
  run<T>(job: () => Promise<T>): Promise<T>
  stats(): HashPoolStats
  /** True when a new job would be refused right now (every slot busy, the queue full). */
  isFull(): boolean
}

interface Waiter {
  enqueuedAt: number
  start: (startedAt: number) => void
}

/** Creates a {@link HashPool}. */
export function createHashPool(options: HashPoolOptions): HashPool {
  const maxConcurrent = Math.max(1, Math.floor(options.maxConcurrent))
  const maxQueued = Math.max(0, Math.floor(options.maxQueued))
  const now = options.now ?? (() => performance.now())
  const queue: Waiter[] = []
  let active = 0

  const release = () => {
    const next = queue.shift()
    // The slot passes straight to the next waiter, so `active` never dips below the bound.
    if (next) next.start(now())
    else active--
  }

  const execute = <T>(job: () => Promise<T>, enqueuedAt: number, startedAt: number) => {
    const finish = () => {
      const timing = { waitMs: startedAt - enqueuedAt, durationMs: now() - startedAt }
      release()
      try {
        options.onJob?.(timing)
      } catch {
        // A metrics listener must not break password hashing.
      }
    }
    // new Promise() turns a synchronous throw of `job` into a rejection.
    const result = new Promise<T>((resolve) => resolve(job()))
    result.then(finish, finish)
    return result
  }

  const isFull = () => active >= maxConcurrent && queue.length >= maxQueued

  return {
    run<T>(job: () => Promise<T>): Promise<T> {
      const enqueuedAt = now()
      if (active < maxConcurrent) {
        active++
        return execute(job, enqueuedAt, enqueuedAt)
      }
      if (queue.length >= maxQueued) {
        // Fail before any work: shedding load is the point (503 with Retry-After).
        return Promise.reject(new UsersError('OVERLOADED', { retryAfterSeconds: 1 }))
      }
      return new Promise<T>((resolve, reject) => {
        queue.push({
          enqueuedAt,
          start: (startedAt) => execute(job, enqueuedAt, startedAt).then(resolve, reject),
        })
      })
    },
    stats: () => ({ active, queued: queue.length, full: isFull() }),
    isFull,
  }
}
