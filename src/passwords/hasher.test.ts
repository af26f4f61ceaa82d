import { randomBytes, scryptSync } from 'node:crypto'
import { type Algorithm, hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/schema.js'
import { isUsersError } from '../errors.js'
import type { HashJobTiming } from './hash-pool.js'
import { createPasswordHasher, type HashPolicy } from './hasher.js'

const CHEAP: HashPolicy = {
  argon2_memory_cost: 1024,
  argon2_time_cost: 1,
  argon2_parallelism: 1,
  max_concurrent_hashes: 2,
  max_queued_hashes: 8,
}

const ARGON2I = 1 as Algorithm

/** passlib's scrypt format: unpadded standard base64 of the raw salt and checksum. */
function passlibScrypt(password: string, salt: Buffer, logN: number, r: number, p: number) {
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '')
  const key = scryptSync(password, salt, 32, { N: 2 ** logN, r, p })
  return `$scrypt$ln=${logN},r=${r},p=${p}$${b64(salt)}$${b64(key)}`
}

describe('createPasswordHasher', () => {
  it('hashes to an Argon2id PHC string at the configured parameters and verifies it', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const stored = await hasher.hash('correct horse')
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
    expect(await hasher.verify(stored, 'correct horse')).toBe(true)
    expect(await hasher.verify(stored, 'correct horsf')).toBe(false)
    expect(await hasher.hash('correct horse')).not.toBe(stored)
  })

  it('uses the spec defaults (64 MiB, t=3, p=4) from the parsed config', async () => {
    const hasher = createPasswordHasher({ policy: parseConfig({}).password })
    const stored = await hasher.hash('x')
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=65536,t=3,p=4\$/)
  })

  it('verifies argon2i hashes', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const stored = await argon2Hash('legacy', {
      algorithm: ARGON2I,
      memoryCost: 1024,
      timeCost: 2,
      parallelism: 1,
    })
    expect(stored.startsWith('$argon2i$')).toBe(true)
    expect(await hasher.verify(stored, 'legacy')).toBe(true)
    expect(await hasher.verify(stored, 'Legacy')).toBe(false)
    expect(hasher.needsRehash(stored)).toBe(true)
  })

  it.each(['2a', '2b', '2y'])('verifies bcrypt $%s$ hashes', async (variant) => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const generated = await bcrypt.hash('hunter2!', 4)
    const stored = generated.replace(/^\$2b\$/, `$${variant}$`)
    expect(stored.startsWith(`$${variant}$04$`)).toBe(true)
    expect(await hasher.verify(stored, 'hunter2!')).toBe(true)
    expect(await hasher.verify(stored, 'hunter2?')).toBe(false)
    expect(hasher.needsRehash(stored)).toBe(true)
  })

  it('verifies a known bcrypt vector (OpenBSD/bcryptjs test suite)', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const stored = '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'
    expect(await hasher.verify(stored, 'U*U')).toBe(true)
    expect(await hasher.verify(stored, 'U*V')).toBe(false)
  })

  it('verifies passlib scrypt hashes generated with node:crypto', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const stored = passlibScrypt('s3cret pass', randomBytes(16), 10, 8, 1)
    expect(await hasher.verify(stored, 's3cret pass')).toBe(true)
    expect(await hasher.verify(stored, 's3cret pasS')).toBe(false)
    expect(hasher.needsRehash(stored)).toBe(true)
  })

  it('accepts the adapted base64 alphabet (. for +) in scrypt hashes', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    let stored = ''
    // Find a salt whose encoding contains '+', so the substitution is really exercised.
    while (!stored.includes('+')) stored = passlibScrypt('pw', randomBytes(16), 4, 8, 1)
    expect(await hasher.verify(stored.replace(/\+/g, '.'), 'pw')).toBe(true)
  })

  // RFC 7914 §12 test vectors, written the way passlib's own tests encode them.
  it.each([
    [
      '',
      '$scrypt$ln=4,r=1,p=1$$d9ZXYjhleyA7GcpCwYoEl/FrSETjB0ro39/6P+3iFEL80Aad7QlI+DJqdToPyB8X6NPg+y4NNijPNeIMONGJBg',
    ],
    [
      'password',
      '$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA',
    ],
  ])('verifies the RFC 7914 scrypt vector for %j', async (password, stored) => {
    // The second vector (N=1024, r=8, p=16) sweeps 32 MiB: over the bound of a 1 MiB Argon2.
    const hasher = createPasswordHasher({ policy: { ...CHEAP, argon2_memory_cost: 8192 } })
    expect(await hasher.verify(stored, password)).toBe(true)
    expect(await hasher.verify(stored, `${password}x`)).toBe(false)
  })

  it.each([
    '',
    'plaintext',
    '$argon2id$',
    '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$',
    '$argon2id$v=19$m=1024,t=1,p=1$!!!$AAAA',
    '$argon2d$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY',
    '$2a$05$tooshort',
    '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$2a$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
    '$scrypt$ln=4,r=1,p=1$c2FsdA$',
    '$scrypt$ln=0,r=1,p=1$c2FsdA$AAAA',
    '$scrypt$ln=4,r=1$c2FsdA$AAAA',
    '$scrypt$ln=4,r=1,p=1$c$AAAA',
    '$scrypt$ln=31,r=8,p=1$c2FsdA$AAAA',
    '$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY',
    '$pbkdf2-sha256$29000$c2FsdA$AAAA',
    '$1$abc$def',
  ])('gives false, without throwing or logging, for the malformed hash %j', async (stored) => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    expect(await hasher.verify(stored, 'password')).toBe(false)
  })

  it.each([
    ['bcrypt cost 31', `$2b$31$${'C'.repeat(22)}E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW`],
    [
      'argon2id t=150000',
      '$argon2id$v=19$m=1024,t=150000,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY',
    ],
    [
      'scrypt p=200',
      '$scrypt$ln=14,r=8,p=200$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY',
    ],
  ])(
    'refuses a stored %s over the cost bound with one dummy verify, not the hash',
    async (_name, stored) => {
      const events: HashJobTiming[] = []
      const hasher = createPasswordHasher({ policy: CHEAP, onHash: (e) => events.push(e) })
      await hasher.verifyDummy('warm') // computes the dummy hash, so only the refusal is counted
      events.length = 0
      const started = performance.now()
      expect(await hasher.verify(stored, 'password')).toBe(false)
      expect(performance.now() - started).toBeLessThan(2000)
      // Costs what a wrong password for a well-formed user costs: one verify at the configured cost.
      expect(events).toHaveLength(1)
      await hasher.close()
    },
    5000,
  )

  it('gives false for a well-formed argon2 hash whose checksum was altered', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const stored = await hasher.hash('pw')
    const tampered = `${stored.slice(0, -4)}${stored.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
    expect(await hasher.verify(tampered, 'pw')).toBe(false)
  })

  it('needsRehash is false only for Argon2id at exactly the configured m, t and p', async () => {
    const hasher = createPasswordHasher({ policy: CHEAP })
    const stored = await hasher.hash('pw')
    expect(hasher.needsRehash(stored)).toBe(false)
    for (const change of [
      { argon2_memory_cost: 2048 },
      { argon2_time_cost: 2 },
      { argon2_parallelism: 2 },
    ]) {
      const other = createPasswordHasher({ policy: { ...CHEAP, ...change } })
      expect(other.needsRehash(stored)).toBe(true)
    }
    expect(hasher.needsRehash(stored.replace('v=19', 'v=16'))).toBe(true)
    expect(hasher.needsRehash('garbage')).toBe(true)
  })

  it('verifyDummy runs one Argon2 verify job at the configured parameters', async () => {
    const events: HashJobTiming[] = []
    const hasher = createPasswordHasher({ policy: CHEAP, onHash: (e) => events.push(e) })
    await hasher.verifyDummy('whatever') // first call also computes the dummy hash
    expect(events).toHaveLength(2)
    events.length = 0
    await hasher.verifyDummy('something else')
    expect(events).toHaveLength(1)
    expect(hasher.stats()).toEqual({ active: 0, queued: 0 })
  })

  it('reports one onHash event per hash and per verify, bcrypt and scrypt included', async () => {
    const events: HashJobTiming[] = []
    const hasher = createPasswordHasher({ policy: CHEAP, onHash: (e) => events.push(e) })
    await hasher.hash('pw')
    await hasher.verify(await bcrypt.hash('pw', 4), 'pw')
    await hasher.verify(passlibScrypt('pw', randomBytes(8), 4, 8, 1), 'pw')
    expect(events).toHaveLength(3)
    for (const e of events) {
      expect(e.waitMs).toBeGreaterThanOrEqual(0)
      expect(e.durationMs).toBeGreaterThanOrEqual(0)
    }
    // Unrecognised hashes are rejected before the pool: no job, no event.
    await hasher.verify('garbage', 'pw')
    expect(events).toHaveLength(3)
  })

  it('bounds concurrent hashes and rejects beyond the queue with OVERLOADED', async () => {
    const hasher = createPasswordHasher({
      policy: { ...CHEAP, max_concurrent_hashes: 1, max_queued_hashes: 1 },
    })
    const bcryptHash = await bcrypt.hash('b', 4)
    const running = hasher.hash('a')
    const queued = hasher.verify(bcryptHash, 'b')
    expect(hasher.stats()).toEqual({ active: 1, queued: 1 })
    const error = await hasher.hash('c').catch((e: unknown) => e)
    expect(isUsersError(error, 'OVERLOADED')).toBe(true)
    const dummyError = await hasher.verifyDummy('d').catch((e: unknown) => e)
    expect(isUsersError(dummyError, 'OVERLOADED')).toBe(true)
    await running
    expect(await queued).toBe(true)
    expect(hasher.stats()).toEqual({ active: 0, queued: 0 })
    // The failed dummy computation is not cached: the next call succeeds.
    await expect(hasher.verifyDummy('d')).resolves.toBeUndefined()
  })
})
