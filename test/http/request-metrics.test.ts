import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createRequestMetrics } from '../../src/http/request-metrics.js'

const lines = async (registry: Registry) =>
  (await registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'))

describe('request metrics', () => {
  it('exports exact counts and a cumulative histogram, each request counted once', async () => {
    const registry = new Registry()
    const observe = createRequestMetrics(registry)
    observe('/auth/jwks.json', 'GET', 200, 0.005) // on a bound: that bucket (le is inclusive)
    observe('/auth/jwks.json', 'GET', 304, 0.0051)
    observe('/auth/jwks.json', 'GET', 200, 11) // beyond the largest bound: +Inf only
    const first = await lines(registry)
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
    const second = await lines(registry)
    expect(second).toContain(
      'users_core_http_requests_total{method="GET",route="/auth/jwks.json",status="200"} 3',
    )
    expect(second).toContain(bucket('0.005', 2))
    expect(second).toContain(bucket('+Inf', 4))
    expect(await lines(registry)).toEqual(second)
  })

  it('keeps series apart by method and route, and resets with the registry', async () => {
    const registry = new Registry()
    const observe = createRequestMetrics(registry)
    observe('/users/me', 'GET', 200, 0.02)
    observe('/users/{id}', 'PUT', 204, 0.2)
    const text = await lines(registry)
    expect(text).toContain(
      'users_core_http_request_duration_seconds_count{method="GET",route="/users/me"} 1',
    )
    expect(text).toContain(
      'users_core_http_request_duration_seconds_count{method="PUT",route="/users/{id}"} 1',
    )
    registry.resetMetrics()
    const reset = await lines(registry)
    expect(reset.filter((l) => l.includes('_count'))).toEqual([
      'users_core_http_request_duration_seconds_count{method="GET",route="/users/me"} 0',
      'users_core_http_request_duration_seconds_count{method="PUT",route="/users/{id}"} 0',
    ])
    expect(reset.filter((l) => l.startsWith('users_core_http_requests_total'))).toEqual([])
  })
})
