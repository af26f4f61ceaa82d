import { afterEach, describe, expect, it, test } from 'vitest'
import { rateLimitKey } from '../../src/http/middleware/rate-limit.js'
import { bearer, createTestApp, json, socketFrom, type TestApp } from './helpers.js'

let t: TestApp | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

test('requests_per_minute: 429 RATE_LIMITED with Retry-After, per principal; /health and /ready exempt', async () => {
  t = await createTestApp({ rate_limit: { requests_per_minute: 5 } })
  // The login of createTestApp spent one point of this IP ("unknown" under app.request).
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    statuses.push((await t.app.request('/users/me', { headers: bearer(t.adminToken) })).status)
  }
  expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200])
  const res = await t.app.request('/users/me', { headers: bearer(t.adminToken) })
  expect(res.status).toBe(429)
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  const body = (await res.json()) as { error: { code: string }; request_id: string }
  expect(body.error.code).toBe('RATE_LIMITED')
  expect(body.request_id).toBe(res.headers.get('x-request-id'))
  for (let i = 0; i < 10; i++) {
    expect((await t.app.request('/health')).status).toBe(200)
    expect((await t.app.request('/ready')).status).toBe(200)
  }
  // Anonymous requests have their own (per-IP) budget.
  expect((await t.app.request('/auth/jwks.json')).status).toBe(200)
})

test('login_requests_per_minute per client IP (X-Forwarded-For from a trusted proxy)', async () => {
  t = await createTestApp({
    api: { trust_proxy: true },
    rate_limit: { login_requests_per_minute: 2, max_failed_logins: 100 },
  })
  const login = (ip: string) =>
    t?.app.request(
      '/auth/login',
      json(
        'POST',
        { username: 'nobody', password: 'x' },
        { 'x-forwarded-for': `198.51.100.9, ${ip}` },
      ),
      socketFrom('127.0.0.1'),
    )
  expect((await login('203.0.113.1'))?.status).toBe(401)
  expect((await login('203.0.113.1'))?.status).toBe(401)
  const limited = await login('203.0.113.1')
  expect(limited?.status).toBe(429)
  expect(limited?.headers.get('retry-after')).not.toBe(null)
  expect((await login('203.0.113.2'))?.status).toBe(401)
})

test('rate_limit.enabled = false turns limiting off', async () => {
  t = await createTestApp({ rate_limit: { enabled: false, requests_per_minute: 1 } })
  for (let i = 0; i < 5; i++) expect((await t.app.request('/auth/jwks.json')).status).toBe(200)
})

describe('rateLimitKey', () => {
  it('is bounded whatever address the client claims (an IPv6 zone id has no length limit)', () => {
    const long = `fe80::1%${'a'.repeat(10_000)}`
    expect(rateLimitKey(undefined, long).length).toBeLessThanOrEqual(70)
    expect(rateLimitKey(undefined, long)).not.toBe(rateLimitKey(undefined, `${long}b`))
    expect(rateLimitKey(undefined, '203.0.113.5')).toBe('ip:203.0.113.5')
    expect(rateLimitKey(undefined, '2001:db8::9')).toBe('ip:2001:db8:0:0::/64')
  })
})

test('an IPv6 client is budgeted by its /64: rotating through it buys no fresh login budget or lockout', async () => {
  t = await createTestApp({
    rate_limit: { login_requests_per_minute: 3, max_failed_logins: 2, lockout_seconds: 900 },
  })
  const app = t.app
  const login = (ip: string, username = 'victim') =>
    app.request('/auth/login', json('POST', { username, password: 'wrong' }), socketFrom(ip))
  const codeOf = async (res: Response) =>
    ((await res.json()) as { error: { code: string } }).error.code
  // Two failures from different addresses of one /64 lock (victim, that /64).
  expect((await login('2001:db8:5:6::1')).status).toBe(401)
  const locked = await login('2001:db8:5:6::2')
  expect(locked.status).toBe(429)
  expect(await codeOf(locked)).toBe('ACCOUNT_LOCKED')
  // The third login of the /64 spends its per-minute budget; a fourth address is refused too.
  expect((await login('2001:db8:5:6:ffff::3', 'other')).status).toBe(401)
  const budget = await login('2001:db8:5:6::4', 'other')
  expect(budget.status).toBe(429)
  expect(await codeOf(budget)).toBe('RATE_LIMITED')
  // The neighbouring /64 is another client.
  expect((await login('2001:db8:5:7::1')).status).toBe(401)
})
