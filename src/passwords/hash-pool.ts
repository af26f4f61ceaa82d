import { Piscina } from 'piscina'
import { UsersError } from '../errors.js'

/**
 * Scheduler niceness of the hashing threads. On Linux a thread's nice value is its own: the event
 * loop stays at 0, so while logins keep every core busy with Argon2, JWKS, refresh and API-key
 * requests still get the CPU first (SPEC §6.3). Hashes use whatever the loop leaves idle; 19 is
 * the lowest priority, a weight of 15 against the loop's 1,024.
 */
export const HASH_THREAD_NICE = 19

/** One unit of password work, run synchronously on a hashing thread (`hash-worker.cjs`). */
export type HashJob =
  | {
      op: 'argon2.hash'
      password: string
      options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number }
    }
  | { op: 'argon2.verify'; stored: string; password: string }
  | { op: 'bcrypt.verify'; stored: string; password: string }
  | {
      op: 'scrypt'
      password: string
      salt: Uint8Array
      keyLength: number
      cost: { N: number; r: number; p: number; maxmem: number }
    }

/** What each job answers: a PHC string, a match, or derived key bytes. */
export type HashJobResult<J extends HashJob> = J extends { op: 'argon2.hash' }
  ? string
  : J extends { op: 'scrypt' }
    ? Uint8Array
    : boolean

/** How long one job waited for a thread and then ran, in milliseconds. */
export interface HashJobTiming {
  waitMs: number
  durationMs: number
}

/** Options of {@link createHashPool}. */
export interface HashPoolOptions {
  /** Jobs running at once, one thread each (at least 1). */
  maxConcurrent: number
  /** Jobs waiting for a thread; one more is rejected with OVERLOADED (0 = never wait). */
  maxQueued: number
  /** Called once per finished job, success or failure. */
  onJob?: (timing: HashJobTiming) => void
}

/** Gauges of a pool: jobs running and jobs waiting. */
export interface HashPoolStats {
  active: number
  queued: number
}

/** Low-priority hashing threads behind a bounded queue that fails fast when full (SPEC §6.3). */
export interface HashPool {
  /**
   * Runs `job` on a hashing thread when one is free. When every thread is busy and the queue is
   * full, the returned promise rejects with `OVERLOADED` at once and no work is done.
   */
  run<J extends HashJob>(job: J): Promise<HashJobResult<J>>
  stats(): HashPoolStats
  /** True when a new job would be refused right now (every thread busy, the queue full). */
  isFull(): boolean
  /** Stops the threads; later jobs are refused. */
  close(): Promise<void>
}

/** What `hash-worker.cjs` answers: the job's result or error, and how long it ran. */
type WorkerAnswer<T> =
  | { ok: true; result: T; durationMs: number }
  | { ok: false; message: string; durationMs: number }

const WORKER = new URL('./hash-worker.cjs', import.meta.url).href

/** Creates a {@link HashPool} on piscina; its threads start with the first job. */
export function createHashPool(options: HashPoolOptions): HashPool {
  const maxThreads = Math.max(1, Math.floor(options.maxConcurrent))
  const maxQueue = Math.max(0, Math.floor(options.maxQueued))
  let piscina: Piscina | undefined
  // Jobs handed to piscina and not settled: piscina has no "would the next one be refused?".
  let inFlight = 0
  let closed = false

  const threads = () =>
    (piscina ??= new Piscina({
      filename: WORKER,
      // Every thread starts at once and stays: a thread piscina starts on demand is the only room
      // it counts while starting, so with maxQueue 0 a burst would be refused before every slot
      // is busy, and a login would wait for a thread to boot.
      minThreads: maxThreads,
      maxThreads,
      maxQueue,
      niceIncrement: HASH_THREAD_NICE,
    }))

  const isFull = () => inFlight >= maxThreads + maxQueue

  const finished = (timing: HashJobTiming) => {
    inFlight--
    try {
      options.onJob?.(timing)
    } catch {
      // A metrics listener must not break password hashing.
    }
  }

  return {
    async run<J extends HashJob>(job: J): Promise<HashJobResult<J>> {
      if (closed) throw new Error('hash pool is closed')
      // Refused before any work: shedding load is the point (503 with Retry-After).
      if (isFull()) throw overloaded()
      const pool = threads()
      inFlight++
      const submittedAt = performance.now()
      let durationMs = 0
      try {
        const answer = (await pool.run(job)) as WorkerAnswer<HashJobResult<J>>
        durationMs = answer.durationMs
        if (!answer.ok) throw new Error(answer.message)
        return answer.result
      } finally {
        const elapsedMs = performance.now() - submittedAt
        finished({ waitMs: Math.max(0, elapsedMs - durationMs), durationMs })
      }
    },
    stats() {
      const active = Math.min(inFlight, maxThreads)
      return { active, queued: inFlight - active }
    },
    isFull,
    async close() {
      closed = true
      await piscina?.destroy()
    },
  }
}

/** The refusal of a login when every hash thread is busy and the queue is full (SPEC §6.3). */
export function overloaded(): UsersError {
  return new UsersError('OVERLOADED', { retryAfterSeconds: 1 })
}
