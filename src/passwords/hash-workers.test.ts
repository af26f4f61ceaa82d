import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createHashWorkers, HASH_THREAD_NICE, type HashWorkers } from './hash-workers.js'

const CHEAP = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }

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

describe('hash workers', () => {
  let workers: HashWorkers | undefined
  afterEach(async () => {
    await workers?.close()
    workers = undefined
  })

  it('hash and verify Argon2id, bcrypt and scrypt off the main thread', async () => {
    workers = createHashWorkers(2)
    const stored = await workers.run({ op: 'argon2.hash', password: 'pw', options: CHEAP })
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
    expect(await workers.run({ op: 'argon2.verify', stored, password: 'pw' })).toBe(true)
    expect(await workers.run({ op: 'argon2.verify', stored, password: 'nope' })).toBe(false)
    const key = await workers.run({
      op: 'scrypt',
      password: 'pw',
      salt: Buffer.from('salt'),
      keyLength: 16,
      cost: { N: 16, r: 1, p: 1, maxmem: 32 * 1024 * 1024 },
    })
    expect(Buffer.from(key).length).toBe(16)
    await expect(
      workers.run({ op: 'argon2.verify', stored: 'garbage', password: 'pw' }),
    ).rejects.toThrow()
  })

  it.runIf(mainThreadNice !== undefined && mainThreadNice < HASH_THREAD_NICE)(
    'runs on threads with a lower scheduling priority than the event loop',
    async () => {
      const before = threadNiceValues().filter((n) => n === HASH_THREAD_NICE).length
      workers = createHashWorkers(2)
      await Promise.all([
        workers.run({ op: 'argon2.hash', password: 'a', options: CHEAP }),
        workers.run({ op: 'argon2.hash', password: 'b', options: CHEAP }),
      ])
      const after = threadNiceValues().filter((n) => n === HASH_THREAD_NICE).length
      expect(after - before).toBe(2)
    },
  )

  it('queues jobs beyond its size and runs them in order', async () => {
    workers = createHashWorkers(1)
    const results = await Promise.all(
      ['a', 'b', 'c'].map((password) =>
        workers?.run({ op: 'argon2.hash', password, options: CHEAP }),
      ),
    )
    expect(results.every((r) => typeof r === 'string')).toBe(true)
  })

  it('refuses work after close', async () => {
    workers = createHashWorkers(1)
    await workers.close()
    await expect(workers.run({ op: 'argon2.hash', password: 'x', options: CHEAP })).rejects.toThrow(
      /closed/,
    )
  })
})
