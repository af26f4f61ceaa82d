import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

/** The API serves JSON only; a route that needs more (the `/docs` page) sets its own CSP. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"

/**
 * SPEC §6.3 headers on every response, errors included. They are prepared before the route runs
 * (Hono merges prepared headers into every response the context makes, the error handler's too),
 * so a route can still override one (`/docs` its CSP) and no finished response is re-opened.
 * HSTS only when the request came over TLS (or, with `trustProxy`, a proxy says it did).
 */
export function securityHeaders(options: { trustProxy: boolean }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('X-Frame-Options', 'DENY')
    c.header('Referrer-Policy', 'no-referrer')
    c.header('Content-Security-Policy', DEFAULT_CSP)
    if (overTls(c, options.trustProxy)) {
      c.header('Strict-Transport-Security', 'max-age=31536000')
    }
    await next()
  }
}

function overTls(c: Context<AppEnv>, trustProxy: boolean): boolean {
  const socket = c.env?.incoming?.socket as { encrypted?: boolean } | undefined
  if (socket?.encrypted === true || c.req.url.startsWith('https:')) return true
  return trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https'
}
