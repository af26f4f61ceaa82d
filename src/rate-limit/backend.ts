import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible'
import type { Config } from '../config.js'
import type { Logger } from '../lib/logger.js'
import { type RequestLimiter, toRequestLimiter } from './limiter.js'

/** Options a limiter is created with (rate-limiter-flexible's own names; `duration` in seconds). */
export interface LimiterOptions {
  keyPrefix: string
  points: number
  duration: number
  blockDuration?: number
}

/**
 * Where rate-limit state lives. `createLimiter` matches the core's lockout `LimiterFactory`, so
 * lockout and request limits share one store (memory now; Redis when `rate_limit.redis_url` lands).
 */
export interface LimiterBackend {
  /** `rate_limit.requests_per_minute` per principal or IP. */
  readonly requests: RequestLimiter
  /** `rate_limit.login_requests_per_minute` per IP on `POST /auth/login`. */
  readonly login: RequestLimiter
  /** Makes a raw limiter in this backend's store (for the core's login lockout). */
  createLimiter(options: LimiterOptions): RateLimiterAbstract
  /** Releases the store's connections. */
  close(): Promise<void>
}

/**
 * Creates the limiters of SPEC §2 `rate_limit.*`. Memory store today; a Redis store is a matter of
 * returning `new RateLimiterRedis({ storeClient, insuranceLimiter: memory(options), ...options })`
 * from `createLimiter` and quitting the client in `close`.
 */
export function createLimiterBackend(config: Config, logger: Logger): LimiterBackend {
  const memory = (options: LimiterOptions) => new RateLimiterMemory(options)
  const createLimiter = memory
  const perMinute = (keyPrefix: string, points: number) =>
    toRequestLimiter(createLimiter({ keyPrefix, points, duration: 60 }), logger, keyPrefix)
  return {
    requests: perMinute('users_core_requests', config.rate_limit.requests_per_minute),
    login: perMinute('users_core_login', config.rate_limit.login_requests_per_minute),
    createLimiter,
    async close() {},
  }
}
