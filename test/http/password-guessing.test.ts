import { afterAll, afterEach, describe, expect, test } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import type { CoreEvent } from '../../src/types.js'
import {
  createTempPostgresDatabase,
  postgresUnavailableReason,
  type TempPostgresDatabase,
} from '../helpers/databases.js'
import { bearer, createTestApp, json, socketFrom, type TestApp, USER_PASSWORD } from './helpers.js'

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const from = (ip: string) => ({ 'x-forwarded-for': ip })
/** The socket of a loopback reverse proxy, which `trusted_proxies` trusts by default. */
const viaProxy = socketFrom('127.0.0.1')

/** `POST /users/:id/password` as the user, from `ip`. */
function change(
  app: TestApp,
  user: { user: { id: string }; token: string },
  body: Record<string, unknown>,
  ip = '203.0.113.5',
) {
  return app.app.request(
    `/users/${user.user.id}/password`,
    json('POST', body, { ...bearer(user.token), ...from(ip) }),
    viaProxy,
  )
}

describe('old-password checks are treated like logins', () => {
  test('the lockout: the Nth wrong old_password answers 429 ACCOUNT_LOCKED, then no hash is computed, even for the right one', async () => {
    t = await createTestApp({
      api: { trust_proxy: true },
      rate_limit: { max_failed_logins: 3, lockout_seconds: 60 },
    })
    const u = await t.createUser('guessed')
    const events: CoreEvent[] = []
    t.core.subscribe((e) => events.push(e))
    const wrong = { old_password: 'Wrong-Guess-1', new_password: 'New-Secret-88' }
    const statuses: [number, string][] = []
    for (let i = 0; i < 3; i++) {
      const res = await change(t, u, wrong)
      statuses.push([res.status, await code(res)])
    }
    expect(statuses).toEqual([
      [401, 'INVALID_CREDENTIALS'],
      [401, 'INVALID_CREDENTIALS'],
      [429, 'ACCOUNT_LOCKED'],
    ])
    const hashes = events.filter((e) => e.type === 'hash').length
    const right = await change(t, u, { old_password: USER_PASSWORD, new_password: 'New-Secret-88' })
    expect(right.status).toBe(429)
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await code(right)).toBe('ACCOUNT_LOCKED')
    expect(events.filter((e) => e.type === 'hash').length).toBe(hashes)
    // The same (username, IP) pair as logins: the login from there is locked too.
    const login = await t.app.request(
      '/auth/login',
      json('POST', { username: 'guessed', password: USER_PASSWORD }, from('203.0.113.5')),
      viaProxy,
    )
    expect(await code(login)).toBe('ACCOUNT_LOCKED')
    // From elsewhere the user still changes their password.
    const elsewhere = await change(
      t,
      u,
      { old_password: USER_PASSWORD, new_password: 'New-Secret-88' },
      '198.51.100.7',
    )
    expect(elsewhere.status).toBe(204)
  })

  test('failures are audited without the password; the lock is audited; a success resets the count', async () => {
    t = await createTestApp({
      api: { trust_proxy: true },
      rate_limit: { max_failed_logins: 3, lockout_seconds: 60 },
    })
    const u = await t.createUser('audited')
    for (let i = 0; i < 2; i++) {
      await change(t, u, { old_password: 'Wrong-Guess-2', new_password: 'New-Secret-88' })
    }
    const failed = await t.core.audit.list({ type: 'user.password_change_failed' })
    expect(failed.total).toBe(2)
    expect(failed.items[0]).toMatchObject({ userId: u.user.id, ip: '203.0.113.5' })
    expect(JSON.stringify(failed.items)).not.toContain('Wrong-Guess-2')
    expect(JSON.stringify(failed.items)).not.toContain('New-Secret-88')
    // A right old password resets the count: two more failures do not lock.
    const ok = await change(t, u, { old_password: USER_PASSWORD, new_password: 'New-Secret-88' })
    expect(ok.status).toBe(204)
    const again = await t.login('audited', 'New-Secret-88')
    const user = { user: u.user, token: again.access_token as string }
    for (let i = 0; i < 2; i++) {
      const res = await change(t, user, {
        old_password: 'Wrong-3',
        new_password: 'Other-Secret-77',
      })
      expect(await code(res)).toBe('INVALID_CREDENTIALS')
    }
    const third = await change(t, user, {
      old_password: 'Wrong-3',
      new_password: 'Other-Secret-77',
    })
    expect(await code(third)).toBe('ACCOUNT_LOCKED')
    expect((await t.core.audit.list({ type: 'user.locked', userId: u.user.id })).total).toBe(1)
  })

  test('login_requests_per_minute per IP, shared with POST /auth/login; admin resets are not counted', async () => {
    t = await createTestApp({
      api: { trust_proxy: true },
      rate_limit: { login_requests_per_minute: 3, max_failed_logins: 100 },
    })
    const u = await t.createUser('limited')
    const victim = await t.createUser('resetme')
    const wrong = { old_password: 'Wrong-Guess-4', new_password: 'New-Secret-88' }
    const login = await t.app.request(
      '/auth/login',
      json('POST', { username: 'nobody', password: 'x' }, from('203.0.113.9')),
      viaProxy,
    )
    expect(login.status).toBe(401)
    expect((await change(t, u, wrong, '203.0.113.9')).status).toBe(401)
    expect((await change(t, u, wrong, '203.0.113.9')).status).toBe(401)
    const limited = await change(t, u, wrong, '203.0.113.9')
    expect(limited.status).toBe(429)
    expect(await code(limited)).toBe('RATE_LIMITED')
    expect(limited.headers.get('retry-after')).not.toBe(null)
    // Another IP has its own budget.
    expect((await change(t, u, wrong, '203.0.113.10')).status).toBe(401)
    // An admin reset from the exhausted IP checks no old password and spends nothing.
    for (let i = 0; i < 4; i++) {
      const reset = await t.app.request(
        `/users/${victim.user.id}/password`,
        json(
          'POST',
          { new_password: `Reset-Secret-7${i}` },
          { ...bearer(t.adminToken), ...from('203.0.113.9') },
        ),
        viaProxy,
      )
      expect(reset.status).toBe(204)
    }
  })

  test('a full hash queue answers 503 OVERLOADED before any lookup, and counts no failure', async () => {
    t = await createTestApp({
      api: { trust_proxy: true },
      password: {
        max_concurrent_hashes: 1,
        max_queued_hashes: 0,
        argon2_memory_cost: 65536,
        argon2_time_cost: 3,
      },
      rate_limit: { max_failed_logins: 1 },
    })
    const u = await t.createUser('busy')
    const hashing = t.core.createUser({ username: 'other', password: USER_PASSWORD })
    for (let i = 0; i < 200 && t.core.hashPoolStats().active === 0; i++) {
      await new Promise((r) => setTimeout(r, 1))
    }
    expect(t.core.hashPoolStats().active).toBe(1)
    const res = await change(t, u, { old_password: 'Wrong-Guess-5', new_password: 'New-Secret-88' })
    expect(res.status).toBe(503)
    expect(await code(res)).toBe('OVERLOADED')
    await hashing
    const ok = await change(t, u, { old_password: USER_PASSWORD, new_password: 'New-Secret-88' })
    expect(ok.status).toBe(204)
  })
})

const pgReason = await postgresUnavailableReason()
const databases: [string, () => Promise<ConfigInput & { drop?: () => Promise<void> }>][] = [
  ['SQLite', async () => ({})],
]
if (!pgReason) {
  databases.push([
    'PostgreSQL',
    async () => {
      const db: TempPostgresDatabase = await createTempPostgresDatabase()
      return { database_url: db.url, drop: db.drop }
    },
  ])
}

describe.each(databases)('revoke_api_keys on %s', (_name, database) => {
  const drops: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const drop of drops) await drop()
  })
  /** A fresh database for each test. */
  async function fresh(): Promise<ConfigInput> {
    const { drop, ...url } = await database()
    if (drop) drops.push(drop)
    return url
  }

  /** A user with an API key and a JWT minted from it, and whether each still works. */
  async function userWithKey(app: TestApp, name: string) {
    const u = await app.createUser(name)
    const key = await app.createKey(u.user.id, ['read', 'write'])
    const minted = await app.app.request('/auth/api-key/token', {
      method: 'POST',
      headers: { 'x-api-key': key },
    })
    expect(minted.status).toBe(200)
    const jwt = ((await minted.json()) as { access_token: string }).access_token
    const works = async () => ({
      key: (await app.app.request('/users/me', { headers: { 'x-api-key': key } })).status,
      jwt: (await app.app.request('/users/me', { headers: bearer(jwt) })).status,
    })
    expect(await works()).toEqual({ key: 200, jwt: 200 })
    return { ...u, works }
  }

  test('default false: a self change and an admin reset keep the keys', async () => {
    t = await createTestApp(await fresh())
    const u = await userWithKey(t, 'keeper')
    expect(
      (await change(t, u, { old_password: USER_PASSWORD, new_password: 'New-Secret-88' })).status,
    ).toBe(204)
    const reset = await t.app.request(
      `/users/${u.user.id}/password`,
      json('POST', { new_password: 'Reset-Secret-77' }, bearer(t.adminToken)),
    )
    expect(reset.status).toBe(204)
    expect(await u.works()).toEqual({ key: 200, jwt: 200 })
    expect((await t.core.audit.list({ type: 'api_key.revoked' })).total).toBe(0)
  })

  test('true on a self change: every key and its minted JWTs stop working, each revocation audited', async () => {
    t = await createTestApp(await fresh())
    const u = await userWithKey(t, 'selfrevoke')
    await t.createKey(u.user.id, ['read'])
    const res = await change(t, u, {
      old_password: USER_PASSWORD,
      new_password: 'New-Secret-88',
      revoke_api_keys: true,
    })
    expect(res.status).toBe(204)
    expect(await u.works()).toEqual({ key: 401, jwt: 401 })
    const revoked = await t.core.audit.list({ type: 'api_key.revoked', userId: u.user.id })
    expect(revoked.total).toBe(2)
    expect(revoked.items.map((e) => e.details.reason)).toEqual([
      'password_change',
      'password_change',
    ])
  })

  test('true on an admin reset; a wrong old password revokes nothing', async () => {
    t = await createTestApp(await fresh())
    const u = await userWithKey(t, 'adminrevoke')
    const wrong = await change(t, u, {
      old_password: 'Wrong-Guess-6',
      new_password: 'New-Secret-88',
      revoke_api_keys: true,
    })
    expect(wrong.status).toBe(401)
    expect(await u.works()).toEqual({ key: 200, jwt: 200 })
    const reset = await t.app.request(
      `/users/${u.user.id}/password`,
      json(
        'POST',
        { new_password: 'Reset-Secret-77', revoke_api_keys: true },
        bearer(t.adminToken),
      ),
    )
    expect(reset.status).toBe(204)
    expect(await u.works()).toEqual({ key: 401, jwt: 401 })
    expect((await t.core.audit.list({ type: 'api_key.revoked', userId: u.user.id })).total).toBe(1)
    const bad = await t.app.request(
      `/users/${u.user.id}/password`,
      json(
        'POST',
        { new_password: 'Reset-Secret-78', revoke_api_keys: 'yes' },
        bearer(t.adminToken),
      ),
    )
    expect(bad.status).toBe(400)
    expect(await code(bad)).toBe('VALIDATION_ERROR')
  })
})
