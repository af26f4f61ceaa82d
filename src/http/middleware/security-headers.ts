import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

/** The API serves JSON only; a route that needs more (the `/docs` page) sets its own CSP. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"

/**
 * SPEC §6.3 headers on every response, errors included. HSTS only when the request came over TLS
 * (or, with `trustProxy`, a proxy says it did): sending it over plain HTTP is meaningless.
 */
export function securityHeaders(options: { trustProxy: boolean }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    const h = c.res.headers
    h.set('X-Content-Type-Options', 'nosniff')
    h.set('X-Frame-Options', 'DENY')
    h.set('Referrer-Policy', 'no-referrer')
    if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', DEFAULT_CSP)
    const socket = c.env?.incoming?.socket as { encrypted?: boolean } | undefined
    const overTls =
      socket?.encrypted === true ||
      new URL(c.req.url).protocol === 'https:' ||
      (options.trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https')
    if (overTls) h.set('Strict-Transport-Security', 'max-age=31536000')
  }
}
