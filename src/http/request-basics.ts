import { randomUUID } from 'node:crypto'

/**
 * What every request needs before its route runs (SPEC §6.3): its id and the security and CORS
 * headers of its response (the client address is `client-address.ts`). Framework-free, so the Hono middleware and the
 * server's fast path (`edge.ts`) answer with exactly the same headers from one definition.
 */

/** The API serves JSON only; a route that needs more (the `/docs` page) sets its own CSP. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"

const ALLOW_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS'
const ALLOW_HEADERS = 'Authorization, Content-Type, X-API-Key, X-Request-Id, If-None-Match'
const EXPOSE_HEADERS = 'Retry-After, X-Request-Id, Link, X-Total-Count, WWW-Authenticate, ETag'
const PREFLIGHT_MAX_AGE_SECONDS = 600

// Safe to echo into headers, logs and audit rows: no spaces, quotes or control characters.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/

/** The request's `X-Request-Id` when sane, else a new UUID. */
export function requestIdFor(sent: string | undefined): string {
  return sent !== undefined && SANE_REQUEST_ID.test(sent) ? sent : randomUUID()
}

/** What the header policy reads off a request. */
export interface RequestFacts {
  /** The socket is TLS, or the request URL says https. */
  encrypted: boolean
  forwardedProto: string | undefined
  origin: string | undefined
}

/** The headers every response carries, and the CORS preflight answer, for one configuration. */
export interface HeaderPolicy {
  /**
   * Security headers (HSTS only over TLS, or behind a trusted proxy that says so), CORS headers
   * for the request's origin, and `X-Request-Id`: a flat `[name, value, …]` list.
   */
  responseHeaders(facts: RequestFacts, requestId: string): string[]
  /** False when `api.cors_allow_origins` is empty: no CORS headers, preflights reach the routes. */
  corsEnabled: boolean
  /** Extra headers of a preflight answer (204) when the origin is allowed, else null. */
  preflightHeaders(origin: string | undefined): Record<string, string> | null
}

/** Builds the policy once per app from `api.trust_proxy` and `api.cors_allow_origins`. */
export function createHeaderPolicy(options: {
  trustProxy: boolean
  corsOrigins: readonly string[]
}): HeaderPolicy {
  const security = [
    'X-Content-Type-Options',
    'nosniff',
    'X-Frame-Options',
    'DENY',
    'Referrer-Policy',
    'no-referrer',
    'Content-Security-Policy',
    DEFAULT_CSP,
  ]
  const corsOn = options.corsOrigins.length > 0
  const anyOrigin = options.corsOrigins.includes('*')
  const allowed = new Set(options.corsOrigins)
  // No credentials mode: callers send bearer headers, not cookies, so `*` is safe to answer.
  const allowOriginFor = (origin: string | undefined): string | null =>
    anyOrigin ? '*' : origin !== undefined && allowed.has(origin) ? origin : null

  const overTls = (facts: RequestFacts) =>
    facts.encrypted ||
    (options.trustProxy && facts.forwardedProto?.split(',')[0]?.trim() === 'https')

  return {
    corsEnabled: corsOn,
    responseHeaders(facts, requestId) {
      const headers = ['X-Request-Id', requestId, ...security]
      if (overTls(facts)) headers.push('Strict-Transport-Security', 'max-age=31536000')
      if (corsOn) {
        if (!anyOrigin) headers.push('Vary', 'Origin')
        const allowOrigin = allowOriginFor(facts.origin)
        if (allowOrigin !== null) {
          headers.push(
            'Access-Control-Allow-Origin',
            allowOrigin,
            'Access-Control-Expose-Headers',
            EXPOSE_HEADERS,
          )
        }
      }
      return headers
    },
    preflightHeaders(origin) {
      if (!corsOn || allowOriginFor(origin) === null) return null
      return {
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
      }
    },
  }
}
