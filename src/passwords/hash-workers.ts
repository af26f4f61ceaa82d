import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * Scheduler niceness of the hashing threads. On Linux a thread's nice value is its own: the event
 * loop stays at 0, so while logins keep every core busy with Argon2, JWKS, refresh and API-key
 * requests still get the CPU first (SPEC §6.3). Hashes use whatever the loop leaves idle. The
 * lowest priority (19: a weight of 15 against the loop's 1,024; 10 weighs 110): in A/B runs of the
 * isolation scenario JWKS p99 fell from 33–73 ms to 17–29 ms (`docs/performance.md`).
 */
export const HASH_THREAD_NICE = 19

/** One unit of password work, run synchronously on a hashing thread. */
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

/** A fixed set of low-priority threads that compute password hashes. */
export interface HashWorkers {
  run<J extends HashJob>(job: J): Promise<HashJobResult<J>>
  close(): Promise<void>
}

// Plain CommonJS evaluated in the worker: no loader needed, the same under tsx, Vitest and dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { setPriority } = require('node:os')
const { scryptSync } = require('node:crypto')
const argon2 = require(workerData.argon2)
const bcrypt = require(workerData.bcrypt)
try { setPriority(0, workerData.nice) } catch {}
parentPort.on('message', ({ id, job }) => {
  try {
    let result
    switch (job.op) {
      case 'argon2.hash': result = argon2.hashSync(job.password, job.options); break
      case 'argon2.verify': result = argon2.verifySync(job.stored, job.password); break
      case 'bcrypt.verify': result = bcrypt.compareSync(job.password, job.stored); break
      case 'scrypt': result = scryptSync(job.password, job.salt, job.keyLength, job.cost); break
      default: throw new Error('unknown job')
    }
    parentPort.postMessage({ id, ok: true, result })
  } catch (error) {
    parentPort.postMessage({ id, ok: false, message: String((error && error.message) || error) })
  }
})
`

interface Pending {
  resolve(value: unknown): void
  reject(error: Error): void
}

interface Slot {
  worker: Worker
  busy: boolean
}

/**
 * Creates up to `size` hashing threads, started on first use. Callers bound concurrency (the hash
 * pool does); extra jobs wait here in order. A thread holds the process open only while busy.
 */
export function createHashWorkers(size: number): HashWorkers {
  const require = createRequire(import.meta.url)
  const workerData = {
    argon2: require.resolve('@node-rs/argon2'),
    bcrypt: require.resolve('bcryptjs'),
    nice: HASH_THREAD_NICE,
  }
  const slots: Slot[] = []
  const waiting: { job: HashJob; pending: Pending }[] = []
  const inFlight = new Map<number, { slot: Slot; pending: Pending }>()
  let nextId = 0
  let closed = false

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
    const slot: Slot = { worker, busy: false }
    worker.unref()
    worker.on(
      'message',
      (message: { id: number; ok: boolean; result?: unknown; message?: string }) => {
        const entry = inFlight.get(message.id)
        if (!entry) return
        inFlight.delete(message.id)
        if (message.ok) entry.pending.resolve(message.result)
        else entry.pending.reject(new Error(message.message ?? 'hash job failed'))
        release(slot)
      },
    )
    worker.on('error', (error) => {
      // A crashed thread fails its job and is replaced on the next one.
      for (const [id, entry] of inFlight) {
        if (entry.slot === slot) {
          inFlight.delete(id)
          entry.pending.reject(error)
        }
      }
      slots.splice(slots.indexOf(slot), 1)
    })
    slots.push(slot)
    return slot
  }

  const dispatch = (slot: Slot, job: HashJob, pending: Pending) => {
    const id = nextId++
    slot.busy = true
    slot.worker.ref()
    inFlight.set(id, { slot, pending })
    slot.worker.postMessage({ id, job })
  }

  const release = (slot: Slot) => {
    slot.busy = false
    const next = waiting.shift()
    if (next && !closed) dispatch(slot, next.job, next.pending)
    else slot.worker.unref()
  }

  return {
    run<J extends HashJob>(job: J): Promise<HashJobResult<J>> {
      if (closed) return Promise.reject(new Error('hash workers are closed'))
      return new Promise<HashJobResult<J>>((resolve, reject) => {
        const pending = { resolve: resolve as (value: unknown) => void, reject }
        const idle = slots.find((s) => !s.busy) ?? (slots.length < size ? spawn() : undefined)
        if (idle) dispatch(idle, job, pending)
        else waiting.push({ job, pending })
      })
    },
    async close() {
      closed = true
      for (const { pending } of waiting.splice(0))
        pending.reject(new Error('hash workers are closed'))
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()))
    },
  }
}
