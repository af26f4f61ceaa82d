import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CoreEvent, UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'

describe('login (SPEC §3, §6.3)', () => {
  let core: UsersCore
  let events: CoreEvent[]

  beforeEach(async () => {
    ;({ core } = await createTestCore({
      rate_limit: { max_failed_logins: 3, lockout_seconds: 60 },
    }))
    events = []
    core.subscribe((e) => events.push(e))
    await core.createUser({
      username: 'Alice',
      password: GOOD_PASSWORD,
      email: 'alice@example.com',
    })
  })
  afterEach(() => core.close())

  it('accepts any case of the username and returns the user as stored', async () => {
    const r = await core.authenticatePassword('aLiCe', GOOD_PASSWORD)
    expect(r.tokenType).toBe('Bearer')
    expect(r.expiresIn).toBe(900)
    expect(r.user.username).toBe('Alice')
    expect(r.user.lastLogin).toBeInstanceOf(Date)
    expect(r.scope).toBe('openid profile email sip.register')
    expect(r.user).not.toHaveProperty('passwordHash')
  })

  it('fails the same way for an unknown user, a wrong password and an inactive user', async () => {
    const bob = await core.createUser({ username: 'bob', password: GOOD_PASSWORD })
    await core.users.update(bob.id, { active: false })
    events.length = 0
    const attempts = [
      core.authenticatePassword('nobody', GOOD_PASSWORD, { ip: '10.0.0.1' }),
      core.authenticatePassword('alice', 'Wrong-Password-1', { ip: '10.0.0.2' }),
      core.authenticatePassword('bob', GOOD_PASSWORD, { ip: '10.0.0.3' }),
    ]
    const errors = await Promise.all(attempts.map((p) => p.catch((e: Error) => e)))
    for (const e of errors) {
      expect(e).toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: 'Invalid username or password.',
      })
    }
    // The unknown user cost a real (dummy) verification too: three hash jobs for three attempts.
    expect(events.filter((e) => e.type === 'hash')).toHaveLength(3)
  })

  it('locks a (username, IP) pair at the Nth failure, before hashing, and only from that IP', async () => {
    const ctx = { ip: '192.0.2.7' }
    for (let i = 0; i < 2; i++) {
      await expect(core.authenticatePassword('alice', 'Wrong-Pass-1', ctx)).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      })
    }
    // The failure that reaches the limit already answers 429.
    await expect(core.authenticatePassword('alice', 'Wrong-Pass-1', ctx)).rejects.toMatchObject({
      code: 'ACCOUNT_LOCKED',
      retryAfterSeconds: 60,
    })
    const hashesBefore = events.filter((e) => e.type === 'hash').length
    await expect(core.authenticatePassword('alice', GOOD_PASSWORD, ctx)).rejects.toMatchObject({
      code: 'ACCOUNT_LOCKED',
    })
    expect(events.filter((e) => e.type === 'hash').length).toBe(hashesBefore)
    // Another IP is not locked out by the attacker.
    await expect(
      core.authenticatePassword('alice', GOOD_PASSWORD, { ip: '198.51.100.1' }),
    ).resolves.toBeDefined()
    const locked = await core.audit.list({ type: 'user.locked' })
    expect(locked.total).toBe(1)
  })

  it('counts failures for usernames that do not exist, so a lock reveals nothing', async () => {
    const ctx = { ip: '192.0.2.8' }
    const codes: string[] = []
    for (let i = 0; i < 4; i++) {
      codes.push(await core.authenticatePassword('ghost', 'x', ctx).catch((e) => e.code))
    }
    expect(codes).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'ACCOUNT_LOCKED',
      'ACCOUNT_LOCKED',
    ])
  })

  it('resets the failure count on success', async () => {
    const ctx = { ip: '192.0.2.9' }
    for (let i = 0; i < 2; i++) await core.authenticatePassword('alice', 'bad', ctx).catch(() => {})
    await core.authenticatePassword('alice', GOOD_PASSWORD, ctx)
    for (let i = 0; i < 2; i++) {
      await expect(core.authenticatePassword('alice', 'bad', ctx)).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      })
    }
  })

  it('audits successes and failures without secrets', async () => {
    await core.authenticatePassword('alice', GOOD_PASSWORD, { ip: '192.0.2.1', requestId: 'req-1' })
    await core.authenticatePassword('alice', 'Wrong-Pass-9', { ip: '192.0.2.1' }).catch(() => {})
    const page = await core.audit.list({ limit: 10 })
    const types = page.items.map((e) => e.type)
    expect(types).toContain('user.login.succeeded')
    expect(types).toContain('user.login.failed')
    const ok = page.items.find((e) => e.type === 'user.login.succeeded')
    expect(ok).toMatchObject({ ip: '192.0.2.1', requestId: 'req-1' })
    const text = JSON.stringify(page.items)
    expect(text).not.toContain(GOOD_PASSWORD)
    expect(text).not.toContain('Wrong-Pass-9')
    expect(text).not.toContain('$argon2')
  })

  it('upgrades a hash made with other Argon2 parameters at the next successful login', async () => {
    const { core: other } = await createTestCore({
      password: { argon2_memory_cost: 2048, argon2_time_cost: 2, argon2_parallelism: 1 },
    })
    try {
      await other.users.importBatch([
        {
          username: 'old',
          password_hash: await hashWith(1024, 1, GOOD_PASSWORD),
        },
      ])
      await other.authenticatePassword('old', GOOD_PASSWORD)
      const exported = await collect(other.users.exportAll())
      expect(exported[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$m=2048,t=2,p=1\$/)
      await expect(other.authenticatePassword('old', GOOD_PASSWORD)).resolves.toBeDefined()
    } finally {
      await other.close()
    }
  })
})

async function hashWith(memoryCost: number, timeCost: number, password: string) {
  const { hash } = await import('@node-rs/argon2')
  return hash(password, { memoryCost, timeCost, parallelism: 1, algorithm: 2 })
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('a full hash queue (SPEC §6.3)', () => {
  it('refuses logins with OVERLOADED at once, before the lockout or any lookup', async () => {
    const { core } = await createTestCore({
      // Hashes slow enough (tens of ms) that one is surely still running when the login arrives.
      password: {
        max_concurrent_hashes: 1,
        max_queued_hashes: 0,
        argon2_memory_cost: 65536,
        argon2_time_cost: 3,
      },
      rate_limit: { max_failed_logins: 1 },
    })
    try {
      await core.createUser({ username: 'busy', password: GOOD_PASSWORD })
      const hashing = core.createUser({ username: 'other', password: GOOD_PASSWORD })
      for (let i = 0; i < 200 && core.hashPoolStats().active === 0; i++) {
        await new Promise((r) => setTimeout(r, 1))
      }
      expect(core.hashPoolStats().active).toBe(1)
      await expect(
        core.authenticatePassword('busy', 'wrong', { ip: '10.1.1.1' }),
      ).rejects.toMatchObject({
        code: 'OVERLOADED',
        retryAfterSeconds: 1,
      })
      await hashing
      // The refused attempt counted as no failure: the lockout (1 failure) did not trip.
      await expect(
        core.authenticatePassword('busy', GOOD_PASSWORD, { ip: '10.1.1.1' }),
      ).resolves.toBeDefined()
    } finally {
      await core.close()
    }
  })
})
