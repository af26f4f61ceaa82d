import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import type { Logger } from '../lib/logger.js'

/** The answer of one {@link RequestLimiter.consume}. */
export type RateLimitDecision =
  | { allowed: true; remaining: number }
  | { allowed: false; retryAfterSeconds: number }

/** A fixed-window budget of requests per key (a principal or an IP). */
export interface RequestLimiter {
  /** Takes one point for `key`; fails open (allowed) when the store itself errors. */
  consume(key: string): Promise<RateLimitDecision>
}

/**
 * Wraps a rate-limiter-flexible limiter. A store failure is logged and lets the request through:
 * a broken Redis must not take the whole API down (the insurance limiter normally answers first).
 */
export function toRequestLimiter(
  limiter: RateLimiterAbstract,
  logger: Logger,
  name: string,
): RequestLimiter {
  return {
    async consume(key) {
      try {
        const res = await limiter.consume(key)
        return { allowed: true, remaining: res.remainingPoints }
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          return {
            allowed: false,
            retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
          }
        }
        logger.error({ err, limiter: name }, 'rate limiter store failed; request allowed')
        return { allowed: true, remaining: 0 }
      }
    },
  }
}
