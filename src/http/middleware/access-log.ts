import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { Logger } from '../../lib/logger.js'
import type { AppEnv } from '../context.js'

/** Receives one observation per request (the metrics module's `HttpMetrics` is one). */
export interface RequestObserver {
  /** `route` is the matched pattern (`/users/:id`), never the raw path, to bound cardinality. */
  observeRequest(route: string, method: string, status: number, seconds: number): void
}

/** The label for requests that matched no route (404 and 405). */
const UNMATCHED_ROUTE = 'unmatched'

/** The route pattern that served (or would have served) the request. */
function routePattern(c: Context): string {
  const routes = matchedRoutes(c)
  const current = routes[c.req.routeIndex]
  if (current && current.method !== 'ALL') return current.path
  return routes.find((r) => r.method !== 'ALL')?.path ?? UNMATCHED_ROUTE
}

/**
 * One pino line per request: id, method, route, status, duration, client IP. Never a body, a
 * header value, a token or a query string (search terms may be personal data).
 */
export function accessLog(options: {
  logger: Logger
  metrics?: RequestObserver | undefined
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now()
    await next()
    const seconds = (performance.now() - started) / 1000
    const route = routePattern(c)
    const method = c.req.method
    const status = c.res.status
    options.metrics?.observeRequest(route, method, status, seconds)
    // Nothing is built for a line that is not written.
    if (!options.logger.isLevelEnabled('info')) return
    options.logger.info(
      {
        request_id: c.get('requestId'),
        method,
        route,
        path: c.req.path,
        status,
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        ip: c.get('clientIp'),
      },
      'request',
    )
  }
}
