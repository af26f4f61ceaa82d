import { register as globalRegistry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createHttpMetrics } from '../../src/http/metrics.js'
import { systemClock } from '../../src/lib/clock.js'
import type { CoreEvent, SigningKeyInfo, UsersCore } from '../../src/types.js'

/** Just what the metrics read of a core, with knobs. */
function fakeCore(state: {
  stats?: { active: number; queued: number }
  users?: () => Promise<number>
  keys?: SigningKeyInfo[]
}) {
  const listeners = new Set<(e: CoreEvent) => void>()
  const core = {
    subscribe(listener: (e: CoreEvent) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    hashPoolStats: () => state.stats ?? { active: 0, queued: 0 },
    clock: systemClock,
    users: { count: state.users ?? (async () => 0) },
    keys: { list: async () => state.keys ?? [] },
  }
  return {
    core: core as unknown as UsersCore,
    listeners,
    emit: (e: CoreEvent) => {
      for (const l of listeners) l(e)
    },
  }
}

const value = async (registry: import('prom-client').Registry, name: string, labels = {}) => {
  const metric = await registry.getSingleMetric(name)?.get()
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return match?.value
}

describe('createHttpMetrics', () => {
  it('gives each app its own registry, never the global one', async () => {
    const a = createHttpMetrics(fakeCore({}).core)
    const b = createHttpMetrics(fakeCore({}).core)
    a.observeRequest('/users/:id', 'GET', 200, 0.01)
    expect(await value(a.registry, 'users_core_http_requests_total', { status: '200' })).toBe(1)
    expect(await value(b.registry, 'users_core_http_requests_total', { status: '200' })).toBe(
      undefined,
    )
    expect(globalRegistry.getSingleMetric('users_core_http_requests_total')).toBeUndefined()
    // Process metrics are collected once per process and shared, not restarted per app.
    const cpu = a.registry.getSingleMetric('process_cpu_user_seconds_total')
    expect(cpu).toBeDefined()
    expect(b.registry.getSingleMetric('process_cpu_user_seconds_total')).toBe(cpu)
    expect(await b.registry.metrics()).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
    a.close()
    b.close()
  })

  it('feeds counters and histograms from core events until closed', async () => {
    const fake = fakeCore({})
    const metrics = createHttpMetrics(fake.core)
    fake.emit({ type: 'login', outcome: 'locked' })
    fake.emit({ type: 'refresh', outcome: 'grace' })
    fake.emit({ type: 'api_key_auth', outcome: 'rejected' })
    fake.emit({ type: 'hash', waitMs: 250, durationMs: 30 })
    fake.emit({ type: 'keys_rotated', kid: 'k2' })
    const r = metrics.registry
    expect(await value(r, 'users_core_logins_total', { outcome: 'locked' })).toBe(1)
    expect(await value(r, 'users_core_refreshes_total', { outcome: 'grace' })).toBe(1)
    expect(
      await value(r, 'users_core_api_key_authentications_total', { outcome: 'rejected' }),
    ).toBe(1)
    expect(await value(r, 'users_core_signing_key_rotations_total')).toBe(1)
    const text = await r.metrics()
    expect(text).toContain('users_core_hash_wait_seconds_bucket{le="0.25"} 1')
    expect(text).toContain('users_core_hash_wait_seconds_bucket{le="0.1"} 0')
    expect(text).toContain('users_core_hash_duration_seconds_sum 0.03')
    metrics.close()
    expect(fake.listeners.size).toBe(0)
    fake.emit({ type: 'login', outcome: 'locked' })
    expect(await value(r, 'users_core_logins_total', { outcome: 'locked' })).toBe(1)
  })

  it('reads the gauges at scrape time and survives a database that fails', async () => {
    const state = {
      stats: { active: 2, queued: 5 },
      users: async () => 7,
      keys: [
        {
          kid: 'old',
          algorithm: 'ES256',
          status: 'retired',
          createdAt: new Date(0),
          activatesAt: new Date(0),
          expiresAt: new Date(Date.now() + 1000),
        },
        {
          kid: 'cur',
          algorithm: 'ES256',
          status: 'current',
          createdAt: new Date(Date.now() - 7_200_000),
          activatesAt: new Date(Date.now() - 3_600_000),
          expiresAt: null,
        },
      ] satisfies SigningKeyInfo[],
    }
    const metrics = createHttpMetrics(fakeCore(state).core)
    const r = metrics.registry
    expect(await value(r, 'users_core_hash_pool_active')).toBe(2)
    expect(await value(r, 'users_core_hash_pool_queue_depth')).toBe(5)
    expect(await value(r, 'users_core_users_total')).toBe(7)
    const age = (await value(r, 'users_core_signing_key_age_seconds')) as number
    expect(age).toBeGreaterThanOrEqual(3600)
    expect(age).toBeLessThan(3700)
    state.stats = { active: 0, queued: 1 }
    state.users = async () => {
      throw new Error('database is down')
    }
    expect(await value(r, 'users_core_hash_pool_queue_depth')).toBe(1)
    expect(await value(r, 'users_core_users_total')).toBe(7)
    await expect(r.metrics()).resolves.toContain('users_core_users_total 7')
    metrics.close()
  })
})
