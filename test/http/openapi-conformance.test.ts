import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/lib/logger.js'
import { assertResponseMatches } from '../helpers/openapi-validator.js'
import {
  ADMIN_PASSWORD,
  bearer,
  createTestApp,
  json,
  type TestApp,
  USER_PASSWORD,
} from './helpers.js'

// Every route of the app answers what openapi.yaml says: a documented status, the required
// headers, and a body matching the schema, for its success and its usual failures.

type Body = Record<string, unknown>
const MISSING_ID = '00000000-0000-4000-8000-000000000000'

describe('the app answers as openapi.yaml documents', () => {
  let t: TestApp
  let alice: { user: { id: string }; token: string }

  /** Requests `path` and checks the response against the document; returns status and body. */
  async function call(method: string, path: string, init: RequestInit = {}) {
    const res = await t.app.request(path, { method, ...init })
    const status = res.status
    const body = (await assertResponseMatches(method, path, res)) as Body
    return { status, body }
  }
  const send = (method: string, path: string, body: unknown, headers = {}) =>
    call(method, path, json(method, body, headers))
  const as = (token: string) => ({ headers: bearer(token) })

  beforeAll(async () => {
    t = await createTestApp()
    alice = await t.createUser('alice')
  })
  afterAll(async () => {
    await t?.close()
  })

  it('auth: login, refresh, introspect, api-key token, logout', async () => {
    const login = await send('POST', '/auth/login', { username: 'ALICE', password: USER_PASSWORD })
    expect(login.status).toBe(200)
    expect((await send('POST', '/auth/login', { username: 'alice' })).status).toBe(400)
    expect((await send('POST', '/auth/login', { username: 'x', password: 'y', z: 1 })).status).toBe(
      400,
    )
    expect(
      (await send('POST', '/auth/login', { username: 'alice', password: 'nope' })).status,
    ).toBe(401)
    const text = await call('POST', '/auth/login', {
      headers: { 'content-type': 'text/plain' },
      body: 'username=alice',
    })
    expect(text.status).toBe(415)
    const big = await send('POST', '/auth/login', { username: 'a', password: 'x'.repeat(70_000) })
    expect(big.status).toBe(413)

    const refresh = await send('POST', '/auth/refresh', { refresh_token: login.body.refresh_token })
    expect(refresh.status).toBe(200)
    expect((await send('POST', '/auth/refresh', { refresh_token: 'nope' })).status).toBe(401)

    const token = refresh.body.access_token as string
    const active = await send('POST', '/auth/introspect', { token }, bearer(t.adminToken))
    expect(active.body).toMatchObject({
      active: true,
      username: 'alice',
      token_type: 'access_token',
    })
    const inactive = await call('POST', '/auth/introspect', {
      headers: { ...bearer(t.adminToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=garbage&token_type_hint=access_token',
    })
    expect(inactive.body).toEqual({ active: false })
    expect((await send('POST', '/auth/introspect', { token })).status).toBe(401)

    const key = await t.createKey(alice.user.id, ['read', 'write'])
    const viaKey = await send('POST', '/auth/introspect', { token: key }, bearer(t.adminToken))
    expect(viaKey.body).toMatchObject({ active: true, token_type: 'api_key' })
    const exchanged = await call('POST', '/auth/api-key/token', { headers: { 'x-api-key': key } })
    expect(exchanged.status).toBe(200)
    expect((await call('POST', '/auth/api-key/token')).status).toBe(401)

    expect((await send('POST', '/auth/logout', {}, bearer(token))).status).toBe(204)
    expect((await send('POST', '/auth/logout', {}, bearer(token))).status).toBe(401)
  })

  it('keys: JWKS, discovery, rotation', async () => {
    for (const path of [
      '/auth/jwks.json',
      '/.well-known/jwks.json',
      '/.well-known/openid-configuration',
    ]) {
      const res = await t.app.request(path)
      const etag = res.headers.get('etag') as string
      expect(res.status, path).toBe(200)
      await assertResponseMatches('GET', path, res)
      const again = await call('GET', path, { headers: { 'if-none-match': etag } })
      expect(again.status, path).toBe(304)
    }
    expect((await call('POST', '/admin/keys/rotate', as(t.adminToken))).status).toBe(200)
    expect((await call('POST', '/admin/keys/rotate', as(alice.token))).status).toBe(403)
  })

  it('users: create, list, read, update, password, roles, delete', async () => {
    const admin = bearer(t.adminToken)
    const created = await send(
      'POST',
      '/users',
      { username: 'bob', password: USER_PASSWORD, email: 'bob@example.com', display_name: 'Bob' },
      admin,
    )
    expect(created.status).toBe(201)
    const bob = created.body.id as string
    expect(
      (await send('POST', '/users', { username: 'BOB', password: USER_PASSWORD }, admin)).status,
    ).toBe(409)
    const weak = await send('POST', '/users', { username: 'carol', password: 'short' }, admin)
    expect(weak).toMatchObject({ status: 400, body: { error: { code: 'WEAK_PASSWORD' } } })
    expect(
      (await send('POST', '/users', { username: 'c', password: USER_PASSWORD }, admin)).status,
    ).toBe(400)
    expect(
      (
        await send(
          'POST',
          '/users',
          { username: 'carol', password: USER_PASSWORD },
          bearer(alice.token),
        )
      ).status,
    ).toBe(403)
    expect(
      (await send('POST', '/users', { username: 'carol', password: USER_PASSWORD })).status,
    ).toBe(401)

    const page = await t.app.request('/users?limit=1', as(t.adminToken))
    expect(page.headers.get('link')).toMatch(/rel="next"/)
    await assertResponseMatches('GET', '/users', page)
    expect((await call('GET', '/users?limit=0', as(t.adminToken))).status).toBe(400)
    expect(
      (await call('GET', '/users?active=true&role=user&search=b', as(t.adminToken))).status,
    ).toBe(200)
    expect((await call('GET', '/users', as(alice.token))).status).toBe(403)

    expect((await call('GET', '/users/me', as(alice.token))).body.username).toBe('alice')
    expect((await call('GET', `/users/${bob}`, as(t.adminToken))).status).toBe(200)
    expect((await call('GET', `/users/${MISSING_ID}`, as(t.adminToken))).status).toBe(404)
    expect((await call('GET', '/users/not-a-uuid', as(t.adminToken))).status).toBe(404)
    expect([403, 404]).toContain((await call('GET', `/users/${bob}`, as(alice.token))).status)

    const cleared = await send('PUT', `/users/${bob}`, { email: null, display_name: null }, admin)
    expect(cleared.body).toMatchObject({ email: null, display_name: null })
    expect(
      (await send('PUT', `/users/${alice.user.id}`, { roles: ['admin'] }, bearer(alice.token)))
        .status,
    ).toBe(403)
    expect((await send('PUT', `/users/${bob}`, { nickname: 'b' }, admin)).status).toBe(400)

    const password = `/users/${alice.user.id}/password`
    const wrongOld = await send(
      'POST',
      password,
      { old_password: 'nope', new_password: 'Another-Pass-77' },
      bearer(alice.token),
    )
    expect(wrongOld).toMatchObject({
      status: 401,
      body: { error: { code: 'INVALID_CREDENTIALS' } },
    })
    expect(
      (await send('POST', `/users/${bob}/password`, { new_password: 'Another-Pass-77' }, admin))
        .status,
    ).toBe(204)

    expect(
      (await send('POST', `/users/${bob}/roles`, { roles: ['user', 'ops'] }, admin)).status,
    ).toBe(200)
    const demote = await send('POST', `/users/${t.admin.id}/roles`, { roles: ['user'] }, admin)
    expect(demote.status).toBe(409)
    expect((await call('DELETE', `/users/${bob}`, as(t.adminToken))).status).toBe(204)
    expect((await call('DELETE', `/users/${bob}`, as(t.adminToken))).status).toBe(404)
  })

  it('sessions and API keys', async () => {
    const login = await t.login('alice', USER_PASSWORD)
    const token = login.access_token as string
    const sessions = await call('GET', `/users/${alice.user.id}/sessions`, as(token))
    expect(sessions.status).toBe(200)
    const list = sessions.body as unknown as Array<{ id: string; current: boolean }>
    expect(list.some((s) => s.current)).toBe(true)
    const other = list.find((s) => !s.current) ?? list[0]
    const sid = `/users/${alice.user.id}/sessions/${other?.id}`
    expect((await call('DELETE', sid, as(t.adminToken))).status).toBe(204)
    expect((await call('DELETE', sid, as(t.adminToken))).status).toBe(404)

    const keys = `/users/${alice.user.id}/api-keys`
    const created = await send('POST', keys, { name: 'pbx', permissions: ['read'] }, bearer(token))
    expect(created.status).toBe(201)
    expect(
      (await send('POST', keys, { name: 'pbx', permissions: ['read'] }, bearer(token))).status,
    ).toBe(409)
    expect(
      (await send('POST', keys, { name: 'x', permissions: ['admin'] }, bearer(token))).status,
    ).toBe(403)
    expect(
      (await send('POST', keys, { name: 'x', permissions: ['root'] }, bearer(token))).status,
    ).toBe(400)
    expect((await call('GET', keys, as(token))).status).toBe(200)
    const id = (created.body.key_info as Body).id as string
    expect((await call('DELETE', `/api-keys/${id}`, as(token))).status).toBe(204)
    expect((await call('DELETE', `/api-keys/${id}`, as(token))).status).toBe(404)
  })

  it('audit, health, readiness, and framework errors', async () => {
    const audit = await call(
      'GET',
      '/audit-events?type=user.login.succeeded&limit=5',
      as(t.adminToken),
    )
    expect(audit.status).toBe(200)
    expect((audit.body as unknown as unknown[]).length).toBeGreaterThan(0)
    expect((await call('GET', '/audit-events?since=yesterday', as(t.adminToken))).status).toBe(400)
    expect((await call('GET', '/health')).body).toMatchObject({ status: 'healthy' })
    expect((await call('GET', '/ready')).status).toBe(200)
    expect((await call('GET', '/users/me', { headers: bearer('garbage') })).status).toBe(401)
  })

  it('health and readiness answer 503 as documented', async () => {
    const draining = createApp(t.core, { logger: createLogger('silent'), isReady: () => false })
    const notReady = await draining.request('/ready')
    expect(notReady.status).toBe(503)
    expect(await assertResponseMatches('GET', '/ready', notReady)).toMatchObject({
      error: { code: 'UNAVAILABLE' },
    })
    const down = await createTestApp()
    await down.close()
    const unhealthy = await down.app.request('/health')
    expect(unhealthy.status).toBe(503)
    expect(await assertResponseMatches('GET', '/health', unhealthy)).toMatchObject({
      status: 'unhealthy',
      checks: { database: 'error' },
    })
  })

  it('login lockout and rate limits answer 429 with Retry-After', async () => {
    const limited = await createTestApp({
      rate_limit: { max_failed_logins: 2, login_requests_per_minute: 1000 },
    })
    try {
      const attempt = () =>
        limited.app.request('/auth/login', json('POST', { username: 'admin', password: 'wrong' }))
      await attempt()
      const locked = await attempt()
      expect(locked.status).toBe(429)
      expect(await assertResponseMatches('POST', '/auth/login', locked)).toMatchObject({
        error: { code: 'ACCOUNT_LOCKED' },
      })
      const right = await limited.app.request(
        '/auth/login',
        json('POST', { username: 'admin', password: ADMIN_PASSWORD }),
      )
      expect(right.status).toBe(429)
    } finally {
      await limited.close()
    }
  })
})
