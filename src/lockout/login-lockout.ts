import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { UsersError } from '../errors.js'
import { sha256Hex } from '../lib/constant-time.js'
import { addressBlock } from '../lib/ip-range.js'
import { BoundedMemoryLimiter } from '../rate-limit/memory-limiter.js'

/** Options a limiter store is created with (rate-limiter-flexible's own names). */
export interface LimiterOptions {
  keyPrefix: string
  points: number
  duration: number
  blockDuration?: number
}

/** Makes rate-limiter-flexible limiters; memory by default, Redis when configured. */
export type LimiterFactory = (options: LimiterOptions) => RateLimiterAbstract

/** The in-process limiter store (one instance, or a fallback when Redis is down), bounded. */
export const memoryLimiterFactory: LimiterFactory = (options) => new BoundedMemoryLimiter(options)

/**
 * Login lockout per (username, IP), SPEC §6.3: checked before any hash is computed; the failure
 * that reaches `maxFailures` already answers ACCOUNT_LOCKED; a success resets the count. Counting
 * every submitted username, existing or not, means a 429 says nothing about which accounts exist.
 */
export interface LoginLockout {
  /** Throws ACCOUNT_LOCKED while the pair is locked. */
  assertNotLocked(username: string, ip: string | null | undefined): Promise<void>
  /** Records a failure; returns true when this failure locked the pair. */
  recordFailure(
    username: string,
    ip: string | null | undefined,
  ): Promise<{ locked: boolean; retryAfterSeconds: number }>
  recordSuccess(username: string, ip: string | null | undefined): Promise<void>
}

/** Creates the lockout over a limiter store. */
export function createLoginLockout(options: {
  maxFailures: number
  lockoutSeconds: number
  limiters?: LimiterFactory
  /** Separates the counts of another credential (SIP digests) from the logins'. */
  keyPrefix?: string
}): LoginLockout {
  const limiter = (options.limiters ?? memoryLimiterFactory)({
    keyPrefix: options.keyPrefix ?? 'users_core_lockout',
    points: options.maxFailures,
    duration: options.lockoutSeconds,
  })
  // A fixed-size key whatever the sender typed: the store never holds their string.
  const keyOf = (username: string, ip: string | null | undefined) =>
    sha256Hex(`${username.normalize('NFKC').toLowerCase()}\n${ip ? addressBlock(ip) : 'local'}`)
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

  return {
    async assertNotLocked(username, ip) {
      const state = await limiter.get(keyOf(username, ip))
      if (state && state.consumedPoints >= options.maxFailures) {
        throw new UsersError('ACCOUNT_LOCKED', { retryAfterSeconds: seconds(state.msBeforeNext) })
      }
    },
    async recordFailure(username, ip) {
      const key = keyOf(username, ip)
      const state = await limiter.penalty(key, 1)
      if (state.consumedPoints >= options.maxFailures) {
        // The lock runs its full length from the failure that triggered it.
        await limiter.block(key, options.lockoutSeconds)
        return { locked: true, retryAfterSeconds: options.lockoutSeconds }
      }
      return { locked: false, retryAfterSeconds: 0 }
    },
    async recordSuccess(username, ip) {
      // A failed reset only leaves a stale count that expires by itself; the login stands.
      await limiter.delete(keyOf(username, ip)).catch(() => undefined)
    },
  }
}
