import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { requestId as honoRequestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { canonicalIp } from '../../lib/ip-range.js'
import type { ClientAddressOf } from '../client-address.js'
import type { AppEnv } from '../context.js'

/**
 * What every request gets before its route runs (SPEC §6.3): its id, the security and CORS
 * headers of its response, the client address and the default `Cache-Control: no-store`. Each
 * middleware is built once per app, with its header values prepared.
 */

const HSTS = 'max-age=31536000'
const ALLOW_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'X-API-Key',
  'X-Request-Id',
  'If-None-Match',
]
/** Headers a browser script may read off a response (SPEC §6.3 names the first four). */
export const EXPOSE_HEADERS = [
  'Retry-After',
  'X-Request-Id',
  'Link',
  'X-Total-Count',
  'WWW-Authenticate',
  'ETag',
]
const PREFLIGHT_MAX_AGE_SECONDS = 600

// Safe to echo into headers, logs and audit rows: no spaces, quotes or control characters.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/
const MAX_REQUEST_ID_LENGTH = 128

/** The request's `X-Request-Id` when sane, else a new UUID. */
export function requestIdFor(sent: string | undefined): string {
  return sent !== undefined && SANE_REQUEST_ID.test(sent) ? sent : randomUUID()
}

/**
 * `X-Request-Id` on the request's context and response. hono/request-id echoes only `[\w=-]`; its
 * generator takes back the ids with `. : @ + /` that users-core has always echoed.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return honoRequestId({
    limitLength: MAX_REQUEST_ID_LENGTH,
    generator: (c) => requestIdFor(c.req.header('x-request-id')),
  })
}

/**
 * Exactly the SPEC §6.3 security headers, on every response (errors, preflights and 304s too).
 * A header a route set itself is kept: `/docs` relaxes its CSP. HSTS is `requestBasics`'s.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return secureHeaders({
    // The API serves JSON only; a route that needs more (the `/docs` page) sets its own CSP.
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xContentTypeOptions: true,
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
    removePoweredBy: false,
    overwrite: false,
  })
}

/**
 * CORS for `api.cors_allow_origins` (not mounted when it is empty), after `requestBasics` so a
 * preflight carries HSTS too. No credentials mode: callers
 * send bearer headers, not cookies, so `*` is safe to answer.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  const grant = cors({
    origin: origins.includes('*') ? '*' : [...origins],
    allowMethods: ALLOW_METHODS,
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  })
  const anyOrigin = origins.includes('*')
  const allowed = new Set(origins)
  const exposed = EXPOSE_HEADERS.join(',')
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      // hono/cors answers every OPTIONS as a preflight; a plain one must reach the routes' `Allow`.
      return c.req.header('access-control-request-method') === undefined ? next() : grant(c, next)
    }
    // An actual request gets its headers after the route: hono/cors opens `c.res` before it,
    // which makes @hono/node-server rebuild every response as a stream.
    await next()
    const origin = c.req.header('origin')
    const headers = c.res.headers
    if (anyOrigin) headers.set('Access-Control-Allow-Origin', '*')
    else {
      headers.append('Vary', 'Origin')
      if (origin !== undefined && allowed.has(origin)) {
        headers.set('Access-Control-Allow-Origin', origin)
      }
    }
    headers.set('Access-Control-Expose-Headers', exposed)
  }
}

/**
 * The client address, HSTS over TLS (or behind a trusted proxy that says so; hono/secure-headers
 * would send it over plain HTTP too) and `Cache-Control: no-store` as the default of every
 * response that does not choose its own: token responses and every authenticated response (SPEC
 * §6.3), with no route able to forget it.
 */
export function requestBasics(options: {
  clientAddress: ClientAddressOf
  /** Whether a socket peer may speak for the client (`createTrustedProxyTest`). */
  isTrustedProxy: (peer: string) => boolean
}): MiddlewareHandler<AppEnv> {
  const { clientAddress, isTrustedProxy } = options
  const fromTrustedProxy = (peer: string | undefined) => {
    const address = peer === undefined ? null : canonicalIp(peer)
    return address !== null && isTrustedProxy(address)
  }
  // X-Forwarded-Proto counts only from a peer that may speak for the client, as X-Forwarded-For.
  const overTls = (encrypted: boolean, peer: string | undefined, proto: string | undefined) =>
    encrypted || (fromTrustedProxy(peer) && proto?.split(',')[0]?.trim() === 'https')
  return async (c, next) => {
    const incoming = c.env?.incoming
    c.set(
      'clientIp',
      clientAddress(incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for')),
    )
    const encrypted =
      (incoming?.socket as { encrypted?: boolean } | undefined)?.encrypted === true ||
      c.req.url.startsWith('https:')
    if (overTls(encrypted, incoming?.socket?.remoteAddress, c.req.header('x-forwarded-proto'))) {
      c.header('Strict-Transport-Security', HSTS)
    }
    await next()
    // After the route: a header set before it would override the route's own once hono/cors
    // has opened the response.
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store')
  }
}
