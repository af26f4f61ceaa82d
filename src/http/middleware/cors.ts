import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS'
const ALLOW_HEADERS = 'Authorization, Content-Type, X-API-Key, X-Request-Id, If-None-Match'
const EXPOSE_HEADERS = 'Retry-After, X-Request-Id, Link, X-Total-Count, WWW-Authenticate, ETag'
const PREFLIGHT_MAX_AGE_SECONDS = 600

/**
 * CORS per `api.cors_allow_origins` (SPEC §6.3); `[]` disables it. Headers are added after the
 * response exists, so errors carry them too. No credentials mode: callers send bearer headers,
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
    const isPreflight =
      c.req.method === 'OPTIONS' &&
      origin !== undefined &&
      c.req.header('access-control-request-method') !== undefined
    if (isPreflight) {
      c.res = c.body(null, 204)
    } else {
      await next()
    }
    const h = c.res.headers
    if (!anyOrigin) h.append('Vary', 'Origin')
    if (allowOrigin === null) return
    h.set('Access-Control-Allow-Origin', allowOrigin)
    if (isPreflight) {
      h.set('Access-Control-Allow-Methods', ALLOW_METHODS)
      h.set('Access-Control-Allow-Headers', ALLOW_HEADERS)
      h.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS))
      return c.res
    } else {
      h.set('Access-Control-Expose-Headers', EXPOSE_HEADERS)
    }
  }
}
