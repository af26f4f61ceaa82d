import { isIP } from 'node:net'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

/**
 * Records the client address: the socket's, or with `trustProxy` the last `X-Forwarded-For`
 * entry — the one our own proxy appended. Earlier entries are whatever the client claimed, and
 * trusting them would let anyone dodge rate limits and lockout by inventing addresses.
 */
export function clientIp(options: { trustProxy: boolean }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let ip: string | null = c.env?.incoming?.socket?.remoteAddress ?? null
    if (options.trustProxy) {
      const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
      if (forwarded !== undefined && isIP(forwarded) !== 0) ip = forwarded
    }
    c.set('clientIp', ip === null ? null : ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''))
    await next()
  }
}
