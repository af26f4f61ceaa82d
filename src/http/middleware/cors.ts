import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS'
const ALLOW_HEADERS = 'Authorization, Content-Type, X-API-Key, X-Request-Id, If-None-Match'
const EXPOSE_HEADERS = 'Retry-After, X-Request-Id, Link, X-Total-Count, WWW-Authenticate, ETag'
const PREFLIGHT_MAX_AGE_SECONDS = 600

/**
 * CORS per `api.cors_allow_origins` (SPEC §6.3); `[]` disables it. Headers are prepared before the
 * route runs, so errors carry them too. No credentials mode: callers send bearer headers,
 * not cookies, so `*` is safe to answer.
 */
export function cors(options: { origins: readonly string[] }): MiddlewareHandler<AppEnv> {
  const anyOrigin = options.origins.includes('*')
  const allowed = new Set(options.origins)
  return async (c, next) => {
    if (options.origins.length === 0) return next()
    const origin = c.req.header('origin')
    const allowOrigin = anyOrigin
      ? '*'
      : origin !== undefined && allowed.has(origin)
        ? origin
        : null
    if (!anyOrigin) c.header('Vary', 'Origin', { append: true })
    if (allowOrigin !== null) c.header('Access-Control-Allow-Origin', allowOrigin)
    const isPreflight =
      c.req.method === 'OPTIONS' &&
      origin !== undefined &&
      c.req.header('access-control-request-method') !== undefined
    if (isPreflight) {
      if (allowOrigin === null) return c.body(null, 204)
      return c.body(null, 204, {
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
      })
    }
    // Prepared before the route runs, so every response of this context carries them, errors too.
    if (allowOrigin !== null) c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS)
    await next()
  }
}
