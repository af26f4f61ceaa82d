import type { MiddlewareHandler } from 'hono'
import type { ClientAddressOf } from '../client-address.js'
import type { AppEnv } from '../context.js'
import { type HeaderPolicy, requestIdFor } from '../request-basics.js'

/**
 * The first middleware: the request id, the client address, the SPEC §6.3 headers and CORS. The
 * headers are prepared before the route runs (Hono merges prepared headers into every response
 * the context makes, the error handler's too), so a route can still override one (`/docs` its
 * CSP, JWKS its `Cache-Control`) and no finished response is re-opened. `Cache-Control: no-store`
 * is the default for every response that does not choose its own: token responses and every
 * authenticated response (SPEC §6.3) with no route able to forget it.
 */
export function requestBasics(options: {
  policy: HeaderPolicy
  clientAddress: ClientAddressOf
}): MiddlewareHandler<AppEnv> {
  const { policy, clientAddress } = options
  return async (c, next) => {
    const incoming = c.env?.incoming
    const id = requestIdFor(c.req.header('x-request-id'))
    c.set('requestId', id)
    c.set(
      'clientIp',
      clientAddress(incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for')),
    )
    const origin = c.req.header('origin')
    const encrypted =
      (incoming?.socket as { encrypted?: boolean } | undefined)?.encrypted === true ||
      c.req.url.startsWith('https:')
    const headers = policy.responseHeaders(
      { encrypted, forwardedProto: c.req.header('x-forwarded-proto'), origin },
      id,
    )
    for (let i = 0; i < headers.length; i += 2) {
      c.header(headers[i] as string, headers[i + 1] as string, { append: true })
    }
    const isPreflight =
      policy.corsEnabled &&
      c.req.method === 'OPTIONS' &&
      origin !== undefined &&
      c.req.header('access-control-request-method') !== undefined
    if (isPreflight) return c.body(null, 204, policy.preflightHeaders(origin) ?? {})
    c.header('Cache-Control', 'no-store')
    await next()
  }
}
