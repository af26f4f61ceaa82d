import { describe, expect, it } from 'vitest'
import { createHttpMetrics, type HttpMetrics } from '../../src/http/metrics.js'
import { systemClock } from '../../src/lib/clock.js'
import type { UsersCore } from '../../src/types.js'

/** Just what the metrics read of a core. */
const fakeCore = {
  subscribe: () => () => {},
  hashPoolStats: () => ({ active: 0, queued: 0 }),
  users: { count: async () => 0 },
  keys: { list: async () => [] },
  clock: systemClock,
} as unknown as UsersCore

const lines = async (metrics: HttpMetrics) =>
  (await metrics.registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith('users_core_http_request'))

describe('request metrics', () => {
  it('exports exact counts and a cumulative histogram, each request counted once', async () => {
    const metrics = createHttpMetrics(fakeCore)
    const observe = metrics.observeRequest.bind(metrics)
    observe('/auth/jwks.json', 'GET', 200, 0.005) // on a bound: that bucket (le is inclusive)
    observe('/auth/jwks.json', 'GET', 304, 0.0051)
    observe('/auth/jwks.json', 'GET', 200, 11) // beyond the largest bound: +Inf only
    const first = await lines(metrics)
    expect(first).toContain(
      'users_core_http_requests_total{method="GET",route="/auth/jwks.json",status="200"} 2',
    )
    expect(first).toContain(
      'users_core_http_requests_total{method="GET",route="/auth/jwks.json",status="304"} 1',
    )
    const bucket = (le: string, n: number) =>
      `users_core_http_request_duration_seconds_bucket{le="${le}",method="GET",route="/auth/jwks.json"} ${n}`
    expect(first).toEqual(
      expect.arrayContaining([
        bucket('0.005', 1),
        bucket('0.01', 2),
        bucket('10', 2),
        bucket('+Inf', 3),
        'users_core_http_request_duration_seconds_sum{method="GET",route="/auth/jwks.json"} 11.0101',
        'users_core_http_request_duration_seconds_count{method="GET",route="/auth/jwks.json"} 3',
      ]),
    )
    // A second scrape adds only what came after the first.
    observe('/auth/jwks.json', 'GET', 200, 0.001)
    const second = await lines(metrics)
    expect(second).toContain(
      'users_core_http_requests_total{method="GET",route="/auth/jwks.json",status="200"} 3',
    )
    expect(second).toContain(bucket('0.005', 2))
    expect(second).toContain(bucket('+Inf', 4))
    expect(await lines(metrics)).toEqual(second)
    metrics.close()
  })

  it('keeps series apart by method and route, and starts again from zero after a reset', async () => {
    const metrics = createHttpMetrics(fakeCore)
    metrics.observeRequest('/users/me', 'GET', 200, 0.02)
    metrics.observeRequest('/users/{id}', 'PUT', 204, 0.2)
    const text = await lines(metrics)
    expect(text).toContain(
      'users_core_http_request_duration_seconds_count{method="GET",route="/users/me"} 1',
    )
    expect(text).toContain(
      'users_core_http_request_duration_seconds_count{method="PUT",route="/users/{id}"} 1',
    )
    metrics.registry.resetMetrics()
    expect(await lines(metrics)).toEqual([])
    metrics.observeRequest('/users/me', 'GET', 200, 0.02)
    expect(await lines(metrics)).toContain(
      'users_core_http_request_duration_seconds_count{method="GET",route="/users/me"} 1',
    )
    metrics.close()
  })
})
