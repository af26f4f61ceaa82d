import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { isUsersError } from '../errors.js'
import {
  createHashPool,
  HASH_THREAD_NICE,
  type HashJob,
  type HashJobTiming,
  type HashPool,
  type HashPoolOptions,
} from './hash-pool.js'

const CHEAP = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }
const hashJob = (password: string): HashJob => ({ op: 'argon2.hash', password, options: CHEAP })

/** Nice values of this process's threads, from /proc (Linux). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    // Fields after the parenthesised command name; nice is field 19 of stat(5).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[16])
  })
}

const mainThreadNice =
  process.platform === 'linux'
    ? Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[16])
    : undefined

describe('createHashPool', () => {
  let pool: HashPool | undefined
  const open = (options: HashPoolOptions) => {
    pool = createHashPool(options)
    return pool
  }
  afterEach(async () => {
    await pool?.close()
    pool = undefined
  })

  it('hashes and verifies Argon2id, bcrypt and scrypt off the main thread', async () => {
    const p = open({ maxConcurrent: 2, maxQueued: 4 })
    const stored = await p.run({ op: 'argon2.hash', password: 'pw', options: CHEAP })
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
    expect(await p.run({ op: 'argon2.verify', stored, password: 'pw' })).toBe(true)
    expect(await p.run({ op: 'argon2.verify', stored, password: 'nope' })).toBe(false)
    const bcrypt = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'
    expect(await p.run({ op: 'bcrypt.verify', stored: bcrypt, password: 'U*U' })).toBe(true)
    const key = await p.run({
      op: 'scrypt',
      password: 'pw',
      salt: Buffer.from('salt'),
      keyLength: 16,
      cost: { N: 16, r: 1, p: 1, maxmem: 32 * 1024 * 1024 },
    })
    expect(Buffer.from(key).length).toBe(16)
  })

  it.runIf(mainThreadNice !== undefined && mainThreadNice < HASH_THREAD_NICE)(
    'runs on threads with a lower scheduling priority than the event loop',
    async () => {
      const before = threadNiceValues().filter((n) => n === HASH_THREAD_NICE).length
      const p = open({ maxConcurrent: 2, maxQueued: 0 })
      await Promise.all([p.run(hashJob('a')), p.run(hashJob('b'))])
      const after = threadNiceValues().filter((n) => n === HASH_THREAD_NICE).length
      expect(after - before).toBe(2)
    },
  )

  it('runs at most maxConcurrent jobs at once and queues the rest', async () => {
    const p = open({ maxConcurrent: 2, maxQueued: 10 })
    const results = ['a', 'b', 'c', 'd'].map((pw) => p.run(hashJob(pw)))
    expect(p.stats()).toEqual({ active: 2, queued: 2 })
    expect((await Promise.all(results)).every((r) => typeof r === 'string')).toBe(true)
    expect(p.stats()).toEqual({ active: 0, queued: 0 })
  })

  it('rejects with OVERLOADED at once, before any work, when the queue is full', async () => {
    const timings: HashJobTiming[] = []
    const p = open({ maxConcurrent: 1, maxQueued: 1, onJob: (t) => timings.push(t) })
    const first = p.run(hashJob('a'))
    const second = p.run(hashJob('b'))
    expect(p.stats()).toEqual({ active: 1, queued: 1 })
    expect(p.isFull()).toBe(true)
    const error = await p.run(hashJob('c')).catch((e: unknown) => e)
    expect(isUsersError(error, 'OVERLOADED')).toBe(true)
    expect((error as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(1)
    await Promise.all([first, second])
    expect(timings).toHaveLength(2)
    expect(p.isFull()).toBe(false)
  })

  it('with maxQueued 0 never queues, and runs a job on every thread from the first one', async () => {
    const p = open({ maxConcurrent: 2, maxQueued: 0 })
    const running = [p.run(hashJob('a')), p.run(hashJob('b'))]
    await expect(p.run(hashJob('c'))).rejects.toMatchObject({ code: 'OVERLOADED' })
    await Promise.all(running)
    await expect(p.run(hashJob('c'))).resolves.toMatch(/^\$argon2id\$/)
  })

  it('frees the slot when a job fails, and fails only that job', async () => {
    const p = open({ maxConcurrent: 1, maxQueued: 2 })
    const failing = p.run({ op: 'argon2.verify', stored: 'garbage', password: 'pw' })
    const after = p.run(hashJob('after'))
    await expect(failing).rejects.toThrow()
    await expect(after).resolves.toMatch(/^\$argon2id\$/)
    expect(p.stats()).toEqual({ active: 0, queued: 0 })
  })

  it('reports the wait and run time of every job, failed ones included', async () => {
    const timings: HashJobTiming[] = []
    const p = open({ maxConcurrent: 1, maxQueued: 5, onJob: (t) => timings.push(t) })
    await Promise.all([
      p.run(hashJob('a')),
      p.run(hashJob('b')),
      p.run({ op: 'argon2.verify', stored: 'garbage', password: 'pw' }).catch(() => false),
    ])
    expect(timings).toHaveLength(3)
    for (const t of timings) {
      expect(t.waitMs).toBeGreaterThanOrEqual(0)
      expect(t.durationMs).toBeGreaterThanOrEqual(0)
    }
    // The last job waited for the two before it.
    expect(timings[2]?.waitMs).toBeGreaterThanOrEqual(timings[1]?.durationMs ?? 0)
  })

  it('survives a listener that throws', async () => {
    const p = open({
      maxConcurrent: 1,
      maxQueued: 0,
      onJob: () => {
        throw new Error('listener')
      },
    })
    await expect(p.run(hashJob('a'))).resolves.toMatch(/^\$argon2id\$/)
    await expect(p.run(hashJob('b'))).resolves.toMatch(/^\$argon2id\$/)
  })

  it('has its worker file built into dist/: the build compiles JavaScript files too', () => {
    const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as {
      compilerOptions: { allowJs?: boolean }
    }
    expect(build.compilerOptions.allowJs).toBe(true)
  })

  it('refuses work after close', async () => {
    const p = open({ maxConcurrent: 1, maxQueued: 0 })
    await p.run(hashJob('a'))
    await p.close()
    await expect(p.run(hashJob('b'))).rejects.toThrow(/closed/)
  })
})
