import type { Context, MiddlewareHandler } from 'hono'
import { UsersError } from '../../errors.js'
import { sha256Hex } from '../../lib/constant-time.js'
import { addressBlock } from '../../lib/ip-range.js'
import type { RequestLimiter } from '../../rate-limit/limiter.js'
import type { Principal } from '../../types.js'
import type { AppEnv } from '../context.js'

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  limiter: RequestLimiter
  /** The budget's key for this request (`user:<id>`, `ip:<addr>`). */
  key: (c: Context<AppEnv>) => string
  /** Requests that are never limited (`/health`, `/ready`). */
  skip?: (c: Context<AppEnv>) => boolean
}

/** Takes one point per request; an empty budget answers 429 RATE_LIMITED with `Retry-After`. */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (options.skip?.(c)) return next()
    const decision = await options.limiter.consume(options.key(c))
    if (!decision.allowed) {
      throw new UsersError('RATE_LIMITED', { retryAfterSeconds: decision.retryAfterSeconds })
    }
    await next()
  }
}

/** The key of the general budget: the authenticated user, else the client IP. */
export function principalOrIpKey(c: Context<AppEnv>): string {
  return rateLimitKey(c.get('principal'), c.get('clientIp'))
}

/** A budget's key: `user:<id>`, else the client IP (`ip:<addr>`, or a digest of a long one). */
export function rateLimitKey(principal: Principal | undefined, ip: string | null): string {
  if (principal) return `user:${principal.user.id}`
  if (ip === null) return 'ip:unknown'
  // An IPv6 zone id (`fe80::1%…`) is as long as the sender likes; the store keeps a digest.
  return ip.length > MAX_IP_LENGTH ? `ip#${sha256Hex(ip)}` : `ip:${addressBlock(ip)}`
}

/** The longest address without a zone id (an IPv4-mapped IPv6 address). */
const MAX_IP_LENGTH = 45

/** The key of per-IP budgets. */
export function ipKey(c: Context<AppEnv>): string {
  return rateLimitKey(undefined, c.get('clientIp'))
}
