import { afterEach, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { createApp } from '../../src/http/app.js'
import { createHttpMetrics, type HttpMetrics } from '../../src/http/metrics.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { assertResponseMatches } from '../helpers/openapi-validator.js'

const ADMIN_PASSWORD = 'Tr0ub4dor-Zephyr-9'
const USER_PASSWORD = 'Quartz-Meadow-71'
const open: Array<{ core: UsersCore; metrics: HttpMetrics }> = []

/** The real app (which mounts /metrics) over a real core with an admin and a user. */
async function metricsApp(overrides: ConfigInput = {}) {
  const logger = createLogger('silent')
  const core = await init(
    {
      database_url: 'sqlite::memory:',
      log_level: 'silent',
      password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
      jwt: { algorithm: 'ES256' },
      ...overrides,
    },
    { logger },
  )
  const metrics = createHttpMetrics(core)
  open.push({ core, metrics })
  const app = createApp(core, { logger, metrics })
  await core.createUser({ username: 'admin', password: ADMIN_PASSWORD, roles: ['admin'] })
  await core.createUser({ username: 'alice', password: USER_PASSWORD })
  const post = (path: string, body: unknown) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const login = async (username: string, password: string) => {
    const res = await post('/auth/login', { username, password })
    return { status: res.status, body: (await res.json()) as Record<string, string> }
  }
  return { app, core, metrics, post, login }
}

afterEach(async () => {
  for (const { core, metrics } of open.splice(0)) {
    metrics.close()
    await core.close()
  }
})

/** The value of one sample of the exposition text, or undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/)
    if (!m || m[1] !== name) continue
    const found = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [
        l[1],
        l[2],
      ]),
    )
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3])
  }
  return undefined
}

describe('GET /metrics', () => {
  it('counts logins, refreshes, tokens and requests with their labels (as admin)', async () => {
    const { app, post, login } = await metricsApp()
    const admin = await login('admin', ADMIN_PASSWORD)
    const alice = await login('alice', USER_PASSWORD)
    expect([admin.status, alice.status]).toEqual([200, 200])
    expect((await login('alice', 'Wrong-Password-1')).status).toBe(401)
    const refreshed = await post('/auth/refresh', { refresh_token: alice.body.refresh_token })
    expect(refreshed.status).toBe(200)
    expect((await post('/auth/refresh', { refresh_token: 'not-a-token' })).status).toBe(401)

    const res = await app.request('/metrics', {
      headers: { authorization: `Bearer ${admin.body.access_token}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = String(await assertResponseMatches('GET', '/metrics', res))

    expect(sample(text, 'users_core_logins_total', { outcome: 'succeeded' })).toBe(2)
    expect(sample(text, 'users_core_logins_total', { outcome: 'failed' })).toBe(1)
    expect(sample(text, 'users_core_logins_total', { outcome: 'locked' })).toBe(0)
    expect(sample(text, 'users_core_refreshes_total', { outcome: 'rotated' })).toBe(1)
    expect(sample(text, 'users_core_refreshes_total', { outcome: 'rejected' })).toBe(1)
    expect(sample(text, 'users_core_refresh_reuse_detected_total')).toBe(0)
    expect(sample(text, 'users_core_tokens_issued_total', { kind: 'access' })).toBe(3)
    expect(sample(text, 'users_core_tokens_issued_total', { kind: 'refresh' })).toBe(3)
    expect(sample(text, 'users_core_api_key_authentications_total', { outcome: 'accepted' })).toBe(
      0,
    )
    const login200 = { method: 'POST', route: '/auth/login', status: '200' }
    expect(sample(text, 'users_core_http_requests_total', login200)).toBe(2)
    expect(sample(text, 'users_core_http_requests_total', { ...login200, status: '401' })).toBe(1)
    expect(
      sample(text, 'users_core_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/auth/refresh',
      }),
    ).toBe(2)
    expect(sample(text, 'users_core_users_total')).toBe(2)
    expect(sample(text, 'users_core_hash_pool_queue_depth')).toBe(0)
    expect(sample(text, 'users_core_hash_pool_active')).toBe(0)
    expect(sample(text, 'users_core_hash_wait_seconds_count')).toBeGreaterThanOrEqual(3)
    expect(sample(text, 'users_core_signing_key_age_seconds')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
  })

  it('counts replays and API-key authentications', async () => {
    const { app, core, post, login } = await metricsApp({ jwt: { refresh_reuse_grace_seconds: 0 } })
    const alice = await login('alice', USER_PASSWORD)
    expect((await post('/auth/refresh', { refresh_token: alice.body.refresh_token })).status).toBe(
      200,
    )
    expect((await post('/auth/refresh', { refresh_token: alice.body.refresh_token })).status).toBe(
      401,
    )
    const admin = await core.users.getByUsername('admin')
    const principal = await core.authenticateBearer(
      (await login('admin', ADMIN_PASSWORD)).body.access_token as string,
    )
    const { key } = await core.apiKeys.create(
      { userId: admin?.id as string, name: 'scraper', permissions: ['read', 'admin'] },
      { actor: principal },
    )
    const res = await app.request('/metrics', { headers: { 'x-api-key': key } })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(sample(text, 'users_core_refreshes_total', { outcome: 'reuse_detected' })).toBe(1)
    expect(sample(text, 'users_core_refresh_reuse_detected_total')).toBe(1)
    expect(sample(text, 'users_core_api_key_authentications_total', { outcome: 'accepted' })).toBe(
      1,
    )
  })

  it('refuses a non-admin (403) and an anonymous caller (401)', async () => {
    const { app, login } = await metricsApp()
    const alice = await login('alice', USER_PASSWORD)
    const forbidden = await app.request('/metrics', {
      headers: { authorization: `Bearer ${alice.body.access_token}` },
    })
    expect(forbidden.status).toBe(403)
    expect(await assertResponseMatches('GET', '/metrics', forbidden)).toMatchObject({
      error: { code: 'FORBIDDEN' },
    })
    const anonymous = await app.request('/metrics')
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await assertResponseMatches('GET', '/metrics', anonymous)).toMatchObject({
      error: { code: 'UNAUTHORIZED' },
    })
  })

  it('answers anyone when api.metrics_public is true', async () => {
    const { app } = await metricsApp({ api: { metrics_public: true } })
    const res = await app.request('/metrics')
    expect(res.status).toBe(200)
    expect(sample(await res.text(), 'users_core_users_total')).toBe(2)
  })
})
