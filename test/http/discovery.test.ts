import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { bearer, createTestApp, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({
    public_url: 'https://users.example.com',
    jwt: { issuer: 'https://issuer.example' },
  })
})
afterAll(() => t.close())

describe('JWKS', () => {
  test.each(['/auth/jwks.json', '/.well-known/jwks.json'])(
    '%s: public cache headers, strong ETag, 304 on If-None-Match',
    async (path) => {
      const res = await t.app.request(path)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('public, max-age=300')
      const etag = res.headers.get('etag') ?? ''
      expect(etag).toMatch(/^"[^"]+"$/)
      const body = (await res.json()) as { keys: Record<string, unknown>[] }
      expect(body.keys.length).toBeGreaterThan(0)
      for (const k of body.keys) {
        expect(k).toMatchObject({ use: 'sig' })
        expect(k).not.toHaveProperty('d')
      }
      const again = await t.app.request(path, { headers: { 'if-none-match': etag } })
      expect(again.status).toBe(304)
      expect(again.headers.get('etag')).toBe(etag)
      expect(await again.text()).toBe('')
      const weak = await t.app.request(path, { headers: { 'if-none-match': `"x", W/${etag}` } })
      expect(weak.status).toBe(304)
      const stale = await t.app.request(path, { headers: { 'if-none-match': '"other"' } })
      expect(stale.status).toBe(200)
    },
  )

  test('the body is the core JWKS, and its ETag changes when the key set does', async () => {
    const before = await t.app.request('/auth/jwks.json')
    expect(await before.json()).toEqual(await t.core.jwks())
    const rotated = await t.app.request('/admin/keys/rotate', {
      method: 'POST',
      headers: bearer(t.adminToken),
    })
    expect(rotated.status).toBe(200)
    const after = await t.app.request('/auth/jwks.json')
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'))
    expect(await after.json()).toEqual(await t.core.jwks())
  })
})

test('openid-configuration is built from public_url and jwt.issuer', async () => {
  const res = await t.app.request('/.well-known/openid-configuration')
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({
    issuer: 'https://issuer.example',
    jwks_uri: 'https://users.example.com/.well-known/jwks.json',
    introspection_endpoint: 'https://users.example.com/auth/introspect',
    id_token_signing_alg_values_supported: ['RS256'],
  })
})

describe('health and readiness', () => {
  test('/health 200 healthy', async () => {
    const res = await t.app.request('/health')
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      status: 'healthy',
      service: 'users-core',
      checks: { database: 'ok' },
    })
    expect(typeof body.version).toBe('string')
    expect(typeof body.uptime_seconds).toBe('number')
    expect(Date.parse(body.timestamp as string)).not.toBeNaN()
  })

  test('/health and /ready 503 when the database check throws; /ready follows isReady', async () => {
    let dbUp = false
    const down: UsersCore = {
      ...t.core,
      checkHealth: () => (dbUp ? Promise.resolve() : Promise.reject(new Error('db down'))),
    }
    let ready = true
    const app = createApp(down, { logger: createLogger('silent'), isReady: () => ready })
    const res = await app.request('/health')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'unhealthy', checks: { database: 'error' } })
    const notReady = await app.request('/ready')
    expect(notReady.status).toBe(503)
    expect(notReady.headers.get('retry-after')).not.toBe(null)
    expect(((await notReady.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE')
    dbUp = true
    expect((await app.request('/ready')).status).toBe(200)
    ready = false
    expect((await app.request('/ready')).status).toBe(503)
  })
})

describe('admin routes', () => {
  test('POST /admin/keys/rotate: admin gets the new JWKS; others 403', async () => {
    const before = (await (await t.app.request('/auth/jwks.json')).json()) as {
      keys: { kid: string }[]
    }
    const res = await t.app.request('/admin/keys/rotate', {
      method: 'POST',
      headers: bearer(t.adminToken),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const after = (await res.json()) as { keys: { kid: string }[] }
    expect(after.keys.map((k) => k.kid)).not.toEqual(before.keys.map((k) => k.kid))
    const user = await t.createUser('rotator')
    const denied = await t.app.request('/admin/keys/rotate', {
      method: 'POST',
      headers: bearer(user.token),
    })
    expect(denied.status).toBe(403)
  })

  test('GET /audit-events: paged, filtered, snake_case events', async () => {
    const res = await t.app.request('/audit-events?limit=1', { headers: bearer(t.adminToken) })
    expect(res.status).toBe(200)
    expect(Number(res.headers.get('x-total-count'))).toBeGreaterThan(1)
    expect(res.headers.get('link')).toMatch(
      /^<https:\/\/users\.example\.com\/audit-events\?limit=1&offset=1>; rel="next"$/,
    )
    const [event] = (await res.json()) as Record<string, unknown>[]
    expect(Object.keys(event ?? {}).sort()).toEqual(
      ['actor', 'at', 'details', 'id', 'ip', 'request_id', 'type', 'user_agent', 'user_id'].sort(),
    )
    const filtered = await t.app.request(
      `/audit-events?type=user.created&user_id=${t.admin.id}&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00%2B01:00`,
      { headers: bearer(t.adminToken) },
    )
    const events = (await filtered.json()) as { type: string; user_id: string }[]
    expect(events.length).toBeGreaterThan(0)
    expect(events.every((e) => e.type === 'user.created' && e.user_id === t.admin.id)).toBe(true)
    for (const q of ['since=yesterday', 'user_id=nope', 'limit=5000']) {
      const bad = await t.app.request(`/audit-events?${q}`, { headers: bearer(t.adminToken) })
      expect(bad.status, q).toBe(400)
    }
  })

  test('the request id sent by the client is recorded in audit events', async () => {
    await t.app.request('/users/00000000-0000-4000-8000-000000000000', {
      method: 'DELETE',
      headers: bearer(t.adminToken),
    })
    const rotated = await t.app.request('/admin/keys/rotate', {
      method: 'POST',
      headers: { ...bearer(t.adminToken), 'x-request-id': 'trace-rotate-1' },
    })
    expect(rotated.status).toBe(200)
    const page = await t.core.audit.list({ type: 'signing_key.rotated' })
    expect(page.items.map((e) => e.requestId)).toContain('trace-rotate-1')
  })
})

describe('/metrics', () => {
  test('admin only by default; counts requests by route pattern', async () => {
    expect((await t.app.request('/metrics')).status).toBe(401)
    const res = await t.app.request('/metrics', { headers: bearer(t.adminToken) })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('users_core_http_requests_total')
    expect(text).toMatch(/route="\/auth\/jwks\.json"/)
    expect(text).not.toMatch(/route="\/users\/[0-9a-f]{8}-/)
  })
})
