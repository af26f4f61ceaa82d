import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  ADMIN_PASSWORD,
  bearer,
  createTestApp,
  json,
  type TestApp,
  USER_PASSWORD,
} from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ rate_limit: { max_failed_logins: 3, lockout_seconds: 120 } })
})
afterAll(() => t.close())

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

describe('POST /auth/login', () => {
  test('200 token response, exactly the SPEC shape, not cacheable', async () => {
    const res = await t.app.request(
      '/auth/login',
      json('POST', { username: 'ADMIN', password: ADMIN_PASSWORD }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('pragma')).toBe('no-cache')
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(
      [
        'access_token',
        'expires_in',
        'refresh_expires_in',
        'refresh_token',
        'scope',
        'token_type',
        'user',
      ].sort(),
    )
    expect(body.token_type).toBe('Bearer')
    const user = body.user as Record<string, unknown>
    expect(Object.keys(user).sort()).toEqual(
      [
        'active',
        'created_at',
        'display_name',
        'email',
        'id',
        'last_login',
        'roles',
        'updated_at',
        'username',
      ].sort(),
    )
    expect(user.created_at).toMatch(ISO)
    expect(JSON.stringify(body)).not.toContain('$argon2')
  })

  test('wrong password and unknown user answer the same 401 INVALID_CREDENTIALS', async () => {
    const a = await t.app.request('/auth/login', json('POST', { username: 'admin', password: 'x' }))
    const b = await t.app.request(
      '/auth/login',
      json('POST', { username: 'ghost1', password: 'x' }),
    )
    for (const res of [a, b]) {
      expect(res.status).toBe(401)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'INVALID_CREDENTIALS',
      )
    }
  })

  test('lockout from the core: 429 ACCOUNT_LOCKED with Retry-After', async () => {
    const attempt = () =>
      t.app.request('/auth/login', json('POST', { username: 'lock-me', password: 'x' }))
    await attempt()
    await attempt()
    const last = await attempt()
    expect(last.status).toBe(429)
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await last.json()) as { error: { code: string } }).error.code).toBe('ACCOUNT_LOCKED')
  })
})

describe('refresh and logout', () => {
  test('refresh rotates; replaying after logout fails with INVALID_TOKEN', async () => {
    const { user } = await t.createUser('refresher')
    void user
    const first = await t.login('refresher', USER_PASSWORD)
    const res = await t.app.request(
      '/auth/refresh',
      json('POST', { refresh_token: first.refresh_token }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const second = (await res.json()) as Record<string, unknown>
    expect(second.refresh_token).not.toBe(first.refresh_token)

    const out = await t.app.request(
      '/auth/logout',
      json('POST', {}, bearer(second.access_token as string)),
    )
    expect(out.status).toBe(204)
    const after = await t.app.request('/users/me', {
      headers: bearer(second.access_token as string),
    })
    expect(after.status).toBe(401)
    const replay = await t.app.request(
      '/auth/refresh',
      json('POST', { refresh_token: second.refresh_token }),
    )
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('INVALID_TOKEN')
  })

  test('logout with no body, and all_sessions', async () => {
    await t.createUser('leaver')
    const a = await t.login('leaver', USER_PASSWORD)
    const b = await t.login('leaver', USER_PASSWORD)
    const res = await t.app.request('/auth/logout', {
      method: 'POST',
      headers: bearer(a.access_token as string),
    })
    expect(res.status).toBe(204)
    const c = await t.login('leaver', USER_PASSWORD)
    const all = await t.app.request(
      '/auth/logout',
      json('POST', { all_sessions: true }, bearer(c.access_token as string)),
    )
    expect(all.status).toBe(204)
    expect(
      (await t.app.request('/users/me', { headers: bearer(b.access_token as string) })).status,
    ).toBe(401)
  })

  test('logout needs credentials, and an access token rather than an API key', async () => {
    expect((await t.app.request('/auth/logout', { method: 'POST' })).status).toBe(401)
    const key = await t.createKey(t.admin.id, ['*'])
    const res = await t.app.request('/auth/logout', { method: 'POST', headers: bearer(key) })
    expect(res.status).toBe(403)
  })
})

describe('POST /auth/api-key/token', () => {
  test('exchanges a key for an access token without refresh token; admin scope only with admin and write permissions', async () => {
    const readKey = await t.createKey(t.admin.id, ['read'])
    const res = await t.app.request('/auth/api-key/token', {
      method: 'POST',
      headers: { 'x-api-key': readKey },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type'])
    expect((body.scope as string).split(' ')).not.toContain('admin')

    const adminKey = await t.createKey(t.admin.id, ['write', 'admin'])
    const res2 = await t.app.request('/auth/api-key/token', {
      method: 'POST',
      headers: bearer(adminKey),
    })
    const body2 = (await res2.json()) as Record<string, unknown>
    expect((body2.scope as string).split(' ')).toContain('admin')
  })

  test('an access token or nothing is refused with 401', async () => {
    const none = await t.app.request('/auth/api-key/token', { method: 'POST' })
    expect(none.status).toBe(401)
    const jwt = await t.app.request('/auth/api-key/token', {
      method: 'POST',
      headers: bearer(t.adminToken),
    })
    expect(jwt.status).toBe(401)
  })
})

describe('POST /auth/introspect', () => {
  test('JSON and form bodies; active and inactive answers', async () => {
    const asJson = await t.app.request(
      '/auth/introspect',
      json('POST', { token: t.adminToken }, bearer(t.adminToken)),
    )
    expect(asJson.status).toBe(200)
    const body = (await asJson.json()) as Record<string, unknown>
    expect(body).toMatchObject({ active: true, username: 'admin', token_type: 'access_token' })
    expect(body.sub).toBe(t.admin.id)

    const asForm = await t.app.request('/auth/introspect', {
      method: 'POST',
      headers: { ...bearer(t.adminToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: 'not-a-token',
        token_type_hint: 'access_token',
      }).toString(),
    })
    expect(asForm.status).toBe(200)
    expect(await asForm.json()).toEqual({ active: false })
  })

  test('introspects an API key too', async () => {
    const key = await t.createKey(t.admin.id, ['read'])
    const res = await t.app.request(
      '/auth/introspect',
      json('POST', { token: key }, bearer(t.adminToken)),
    )
    expect(await res.json()).toMatchObject({ active: true, token_type: 'api_key' })
  })

  test('needs an authenticated caller; other content types are 415', async () => {
    const anon = await t.app.request('/auth/introspect', json('POST', { token: t.adminToken }))
    expect(anon.status).toBe(401)
    const xml = await t.app.request('/auth/introspect', {
      method: 'POST',
      headers: { ...bearer(t.adminToken), 'content-type': 'application/xml' },
      body: '<token/>',
    })
    expect(xml.status).toBe(415)
  })
})
