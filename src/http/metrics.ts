import type { Context, Env, Hono } from 'hono'
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type Metric,
  Registry,
} from 'prom-client'
import type { Config } from '../config/schema.js'
import type { LimiterStoreState } from '../storage/redis/limiter-backend.js'
import type { CoreEvent, UsersCore } from '../types.js'
import type { RequestObserver } from './middleware/access-log.js'

/** Prometheus metrics of one app: request counters plus what the core reports. */
export interface HttpMetrics extends RequestObserver {
  /** This app's own registry (never prom-client's global one: apps in one process must not collide). */
  readonly registry: Registry
  /** Publishes whether the shared rate-limit store (Redis) is reachable, read at scrape time. */
  trackLimiterStore(state: () => LimiterStoreState): void
  /** Stops listening to the core. */
  close(): void
}

/** Options of {@link registerMetricsRoute}. */
export interface MetricsRouteOptions<E extends Env> {
  metrics: HttpMetrics
  config: Config
  /** Throws (UNAUTHORIZED / FORBIDDEN) unless the caller is an admin; used unless `metrics_public`. */
  authorize: (c: Context<E>) => Promise<void>
}

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const HASH_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

// Every label value the core can report, so each series exists (at 0) before its first event
// and `rate()` sees the first increment.
const LOGIN_OUTCOMES = ['succeeded', 'failed', 'locked'] as const
const TOKEN_KINDS = ['access', 'refresh'] as const
const REFRESH_OUTCOMES = ['rotated', 'grace', 'rejected', 'reuse_detected'] as const
const API_KEY_OUTCOMES = ['accepted', 'rejected'] as const

let processRegistry: Registry | undefined

// Node's default metrics describe the process, not an app, and collecting them starts an
// event-loop monitor and a GC observer that cannot be stopped: one set per process, shared by
// every app's registry, instead of one per app (the test suite builds hundreds of apps).
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/**
 * Creates the metrics of one app over `core`: HTTP request counters and durations, login,
 * token, refresh and API-key counters fed by `core.subscribe`, hash-pool, user-count and
 * signing-key-age gauges read at scrape time, and Node's default process metrics.
 */
export function createHttpMetrics(core: UsersCore): HttpMetrics {
  const registry = new Registry()
  const registers = [registry]
  for (const metric of processMetrics().getMetricsAsArray()) {
    registry.registerMetric(metric as unknown as Metric)
  }

  // Bounded: routes are patterns (plus "unmatched"), methods and statuses are few.
  const requests = new Counter({
    name: 'users_core_http_requests_total',
    help: 'HTTP requests by method, matched route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  })
  const durations = new Histogram({
    name: 'users_core_http_request_duration_seconds',
    help: 'HTTP request duration by method and matched route.',
    labelNames: ['method', 'route'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  })
  const logins = new Counter({
    name: 'users_core_logins_total',
    help: 'Password logins by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  })
  const tokens = new Counter({
    name: 'users_core_tokens_issued_total',
    help: 'Tokens issued by kind (access, refresh).',
    labelNames: ['kind'] as const,
    registers,
  })
  const refreshes = new Counter({
    name: 'users_core_refreshes_total',
    help: 'Refresh-token presentations by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  })
  const reuse = new Counter({
    name: 'users_core_refresh_reuse_detected_total',
    help: 'Refresh tokens replayed after the grace period (the session was revoked).',
    registers,
  })
  const apiKeyAuths = new Counter({
    name: 'users_core_api_key_authentications_total',
    help: 'API-key authentications by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  })
  const hashWait = new Histogram({
    name: 'users_core_hash_wait_seconds',
    help: 'Time a password hash waited in the queue before it started.',
    buckets: HASH_BUCKETS,
    registers,
  })
  const hashDuration = new Histogram({
    name: 'users_core_hash_duration_seconds',
    help: 'Time a password hash took once started.',
    buckets: HASH_BUCKETS,
    registers,
  })
  const rotations = new Counter({
    name: 'users_core_signing_key_rotations_total',
    help: 'Signing-key rotations performed by this process.',
    registers,
  })

  new Gauge({
    name: 'users_core_hash_pool_queue_depth',
    help: 'Password hashes waiting for a slot.',
    registers,
    collect() {
      this.set(core.hashPoolStats().queued)
    },
  })
  new Gauge({
    name: 'users_core_hash_pool_active',
    help: 'Password hashes being computed.',
    registers,
    collect() {
      this.set(core.hashPoolStats().active)
    },
  })
  // A scrape must not fail because the database hiccups: keep the last value instead.
  new Gauge({
    name: 'users_core_users_total',
    help: 'User accounts.',
    registers,
    async collect() {
      try {
        this.set(await core.users.count())
      } catch {}
    },
  })
  new Gauge({
    name: 'users_core_signing_key_age_seconds',
    help: 'Seconds since the current signing key started signing.',
    registers,
    async collect() {
      try {
        const current = (await core.keys.list()).find((k) => k.status === 'current')
        const since = current?.activatesAt ?? current?.createdAt
        if (since) this.set(Math.max(0, (core.clock.now().getTime() - since.getTime()) / 1000))
      } catch {}
    },
  })

  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0)
  for (const kind of TOKEN_KINDS) tokens.inc({ kind }, 0)
  for (const outcome of REFRESH_OUTCOMES) refreshes.inc({ outcome }, 0)
  for (const outcome of API_KEY_OUTCOMES) apiKeyAuths.inc({ outcome }, 0)
  reuse.inc(0)
  rotations.inc(0)

  const onEvent = (event: CoreEvent): void => {
    switch (event.type) {
      case 'login':
        logins.inc({ outcome: event.outcome })
        break
      case 'token_issued':
        tokens.inc({ kind: event.kind })
        break
      case 'refresh':
        refreshes.inc({ outcome: event.outcome })
        if (event.outcome === 'reuse_detected') reuse.inc()
        break
      case 'api_key_auth':
        apiKeyAuths.inc({ outcome: event.outcome })
        break
      case 'hash':
        hashWait.observe(event.waitMs / 1000)
        hashDuration.observe(event.durationMs / 1000)
        break
      case 'keys_rotated':
        rotations.inc()
        break
    }
  }
  const unsubscribe = core.subscribe(onEvent)

  return {
    registry,
    trackLimiterStore(state) {
      new Gauge({
        name: 'users_core_rate_limit_store_up',
        help: '1 while rate limits and lockouts are shared through Redis (or kept in memory by design); 0 while Redis is unreachable and each instance falls back to its own.',
        registers,
        collect() {
          this.set(state() === 'redis-unavailable' ? 0 : 1)
        },
      })
    },
    observeRequest(route, method, status, seconds) {
      requests.inc({ method, route, status: String(status) })
      durations.observe({ method, route }, seconds)
    },
    close: unsubscribe,
  }
}

/**
 * Mounts `GET /metrics` (Prometheus text format). Unless `api.metrics_public`, the caller must
 * pass `authorize` (an admin), whose UsersError the app's error handler answers.
 */
export function registerMetricsRoute<E extends Env>(
  app: Hono<E>,
  options: MetricsRouteOptions<E>,
): void {
  const { metrics, config, authorize } = options
  app.get('/metrics', async (c) => {
    if (!config.api.metrics_public) await authorize(c)
    const text = await metrics.registry.metrics()
    return c.body(text, 200, { 'Content-Type': metrics.registry.contentType })
  })
}
