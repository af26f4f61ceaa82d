import { describe, expect, it } from 'vitest'
import { isUsersError } from '../errors.js'
import { createHashPool, type HashJobTiming } from './hash-pool.js'

/** A promise the test settles by hand, so no test depends on timing. */
function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('createHashPool', () => {
  it('runs at most maxConcurrent jobs at once and queues the rest in order', async () => {
    const pool = createHashPool({ maxConcurrent: 2, maxQueued: 10 })
    const gates = [deferred(), deferred(), deferred(), deferred()]
    const started: number[] = []
    const results = gates.map((gate, i) =>
      pool.run(async () => {
        started.push(i)
        await gate.promise
        return i
      }),
    )
    await flush()
    expect(started).toEqual([0, 1])
    expect(pool.stats()).toEqual({ active: 2, queued: 2, full: false })

    gates[1]?.resolve()
    await flush()
    expect(started).toEqual([0, 1, 2])
    expect(pool.stats()).toEqual({ active: 2, queued: 1, full: false })

    gates[0]?.resolve()
    gates[2]?.resolve()
    gates[3]?.resolve()
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3])
    expect(started).toEqual([0, 1, 2, 3])
    expect(pool.stats()).toEqual({ active: 0, queued: 0, full: false })
  })

  it('rejects with OVERLOADED at once, without calling the job, when the queue is full', async () => {
    const pool = createHashPool({ maxConcurrent: 1, maxQueued: 1 })
    const gate = deferred()
    const first = pool.run(() => gate.promise)
    const second = pool.run(() => gate.promise)
    let called = false
    const third = pool.run(async () => {
      called = true
    })
    const error = await third.catch((e: unknown) => e)
    expect(isUsersError(error, 'OVERLOADED')).toBe(true)
    expect((error as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(1)
    expect(called).toBe(false)
    expect(pool.stats()).toEqual({ active: 1, queued: 1, full: true })
    gate.resolve()
    await Promise.all([first, second])
    expect(called).toBe(false)
  })

  it('with maxQueued 0 never queues', async () => {
    const pool = createHashPool({ maxConcurrent: 1, maxQueued: 0 })
    const gate = deferred()
    const first = pool.run(() => gate.promise)
    await expect(pool.run(async () => 1)).rejects.toMatchObject({ code: 'OVERLOADED' })
    gate.resolve()
    await first
    await expect(pool.run(async () => 1)).resolves.toBe(1)
  })

  it('frees the slot when a job fails or throws synchronously', async () => {
    const pool = createHashPool({ maxConcurrent: 1, maxQueued: 0 })
    await expect(pool.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(
      pool.run(() => {
        throw new Error('sync boom')
      }),
    ).rejects.toThrow('sync boom')
    expect(pool.stats()).toEqual({ active: 0, queued: 0, full: false })
    await expect(pool.run(async () => 'ok')).resolves.toBe('ok')
  })

  it('propagates a queued job failure to its caller only', async () => {
    const pool = createHashPool({ maxConcurrent: 1, maxQueued: 2 })
    const gate = deferred()
    const first = pool.run(() => gate.promise)
    const failing = pool.run(() => Promise.reject(new Error('queued boom')))
    const after = pool.run(async () => 'after')
    gate.resolve()
    await first
    await expect(failing).rejects.toThrow('queued boom')
    await expect(after).resolves.toBe('after')
  })

  it('reports wait and duration of every job, from an injected clock', async () => {
    let clock = 0
    const timings: HashJobTiming[] = []
    const pool = createHashPool({
      maxConcurrent: 1,
      maxQueued: 5,
      now: () => clock,
      onJob: (t) => timings.push(t),
    })
    const gateA = deferred()
    const gateB = deferred()
    const a = pool.run(() => gateA.promise)
    clock = 10
    const b = pool.run(() => gateB.promise)
    clock = 30
    gateA.resolve()
    await a
    await flush()
    clock = 45
    gateB.resolve()
    await b
    await flush()
    expect(timings).toEqual([
      { waitMs: 0, durationMs: 30 },
      { waitMs: 20, durationMs: 15 },
    ])
  })

  it('survives a listener that throws', async () => {
    const pool = createHashPool({
      maxConcurrent: 1,
      maxQueued: 0,
      onJob: () => {
        throw new Error('listener')
      },
    })
    await expect(pool.run(async () => 1)).resolves.toBe(1)
    await flush()
    await expect(pool.run(async () => 2)).resolves.toBe(2)
  })
})
