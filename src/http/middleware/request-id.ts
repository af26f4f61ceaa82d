import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

// Safe to echo into headers, logs and audit rows: no spaces, quotes or control characters.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/

/** Takes the request's `X-Request-Id` when sane, else a new UUID; echoes it on every response. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sent = c.req.header('x-request-id')
    const id = sent !== undefined && SANE_REQUEST_ID.test(sent) ? sent : randomUUID()
    c.set('requestId', id)
    c.header('X-Request-Id', id)
    await next()
  }
}
