import { Hono } from 'hono'
import type { Logger } from '../lib/logger.js'
import { createLimiterBackend, type LimiterBackend } from '../storage/redis/limiter-backend.js'
import type { UsersCore } from '../types.js'
import { authorizeAdmin } from './authz.js'
import { createClientAddress, createTrustedProxyTest } from './client-address.js'
import type { AppEnv } from './context.js'
import { registerDocsRoutes } from './docs.js'
import { createHttpMetrics, type HttpMetrics, registerMetricsRoute } from './metrics.js'
import { accessLog } from './middleware/access-log.js'
import { authenticate } from './middleware/authenticate.js'
import { bodyLimit } from './middleware/body-limit.js'
import { errorHandler, notFoundHandler } from './middleware/error-handler.js'
import { principalOrIpKey, rateLimit } from './middleware/rate-limit.js'
import { corsFor, requestBasics, requestId, securityHeaders } from './middleware/request-basics.js'
import { createPublicDocuments } from './public-documents.js'
import { registerAdminRoutes } from './routes/admin.js'
import { registerApiKeyRoutes } from './routes/api-keys.js'
import { registerAuthRoutes, registerLoginRefusal } from './routes/auth.js'
import { registerConsoleRoutes } from './routes/console.js'
import type { RouteDeps } from './routes/deps.js'
import { registerDiscoveryRoutes } from './routes/discovery.js'
import { registerHealthRoutes } from './routes/health.js'
import { enforce, requirePrincipal } from './routes/input.js'
import { registerMfaRoutes } from './routes/mfa.js'
import { registerSessionRoutes } from './routes/sessions.js'
import { registerSipRoutes } from './routes/sip.js'
import { registerUserRoutes } from './routes/users.js'

export type { AppEnv } from './context.js'
export type { HttpMetrics } from './metrics.js'

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  logger: Logger
  /** Request and core metrics served at `/metrics`; default: a new registry over `core`. */
  metrics?: HttpMetrics | undefined
  /**
   * Rate-limit state. Default, when `rate_limit.enabled`: one built from the core's config (a
   * Redis connection when `rate_limit.redis_url` is set) that lives as long as the process. Pass
   * one from `createLimiterBackend` to share it (with the lockout, or between apps) or to close it.
   */
  limiter?: LimiterBackend | undefined
  /** `/ready` answers 503 while this returns false (the server flips it). Default: ready. */
  isReady?: (() => boolean) | undefined
  /** Overrides `public_url` (the server passes the real URL when it bound port 0). */
  publicUrl?: string | undefined
}

// Liveness and readiness probes must keep answering under any load (SPEC §2 rate_limit).
const UNLIMITED_PATHS = new Set(['/health', '/ready'])

/**
 * Builds the users-core REST API (SPEC §6) over a core as a Hono app: call `app.fetch` from a
 * server or `app.request()` in tests. Opens no port. Every request, on every route, goes through
 * the same middleware in this order.
 */
export function createApp(core: UsersCore, options: CreateAppOptions): Hono<AppEnv> {
  const config = options.publicUrl ? { ...core.config, public_url: options.publicUrl } : core.config
  const limiter =
    options.limiter ??
    (config.rate_limit.enabled ? createLimiterBackend(config, options.logger) : undefined)
  const deps: RouteDeps = {
    core,
    config,
    logger: options.logger,
    limiter: config.rate_limit.enabled ? limiter : undefined,
    isReady: options.isReady ?? (() => true),
    startedAt: core.clock.now().getTime(),
  }

  const metrics = options.metrics ?? createHttpMetrics(core)
  if (deps.limiter) metrics.trackLimiterStore(deps.limiter.state)

  const app = new Hono<AppEnv>()
  app.use(accessLog({ logger: options.logger, metrics }))
  app.use(requestId())
  app.use(securityHeaders())
  app.use(
    requestBasics({
      clientAddress: createClientAddress(config.api),
      isTrustedProxy: createTrustedProxyTest(config.api),
    }),
  )
  if (config.api.cors_allow_origins.length > 0) app.use(corsFor(config.api.cors_allow_origins))
  registerLoginRefusal(app, core)
  app.use(authenticate({ core }))
  if (deps.limiter) {
    app.use(
      rateLimit({
        limiter: deps.limiter.requests,
        key: principalOrIpKey,
        skip: (c) => UNLIMITED_PATHS.has(c.req.path),
      }),
    )
  }
  app.use(bodyLimit({ maxBytes: config.api.max_body_bytes }))

  registerHealthRoutes(app, deps)
  registerDiscoveryRoutes(app, createPublicDocuments(core, config))
  registerAuthRoutes(app, deps)
  registerMfaRoutes(app, deps)
  registerUserRoutes(app, deps)
  registerSessionRoutes(app, deps)
  registerApiKeyRoutes(app, deps)
  registerSipRoutes(app, deps)
  registerAdminRoutes(app, deps)
  registerMetricsRoute(app, {
    metrics,
    config,
    authorize: async (c) => {
      enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    },
  })
  registerDocsRoutes(app, { config })
  registerConsoleRoutes(app, deps)

  app.onError(errorHandler({ logger: options.logger }))
  app.notFound(notFoundHandler(() => app.routes))
  return app
}
