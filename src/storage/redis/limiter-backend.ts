import { Redis } from 'ioredis'
import { type RateLimiterAbstract, RateLimiterRedis } from 'rate-limiter-flexible'
import { redactUrl } from '../../config/redact.js'
import type { Config } from '../../config/schema.js'
import type { Logger } from '../../lib/logger.js'
import type { LimiterOptions } from '../../lockout/login-lockout.js'
import { type RequestLimiter, toRequestLimiter } from '../../rate-limit/limiter.js'
import { BoundedMemoryLimiter } from '../../rate-limit/memory-limiter.js'

/** Where the shared state lives and whether it is reachable right now. */
export type LimiterStoreState = 'memory' | 'redis' | 'redis-unavailable'

/**
 * Where rate-limit state lives. `createLimiter` matches the core's lockout `LimiterFactory`, so
 * lockout and request limits share one store: memory for one instance, Redis for several.
 */
export interface LimiterBackend {
  /** `rate_limit.requests_per_minute` per principal or IP. */
  readonly requests: RequestLimiter
  /** `rate_limit.login_requests_per_minute` per IP on `POST /auth/login`. */
  readonly login: RequestLimiter
  /** Makes a raw limiter in this backend's store (for the core's login lockout). */
  createLimiter(options: LimiterOptions): RateLimiterAbstract
  /** `redis-unavailable` while limits fall back to this instance's memory. */
  state(): LimiterStoreState
  /** Releases the store's connections. */
  close(): Promise<void>
}

/**
 * Creates the limiters of SPEC §2 `rate_limit.*`. With `redis_url` every limiter is a Redis
 * limiter insured by an in-memory one: while Redis is unreachable each instance keeps enforcing
 * its own limits (a warning is logged and `state()` says so), and Redis takes over again by
 * itself when it returns — never a 500 because the limiter store is down.
 */
export function createLimiterBackend(config: Config, logger: Logger): LimiterBackend {
  const redisUrl = config.rate_limit.redis_url
  const redis = redisUrl ? connectRedis(redisUrl, logger) : undefined
  const createLimiter = (options: LimiterOptions): RateLimiterAbstract => {
    const memory = new BoundedMemoryLimiter(options)
    if (!redis) return memory
    return new RateLimiterRedis({
      ...options,
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    })
  }
  const perMinute = (keyPrefix: string, points: number) =>
    toRequestLimiter(createLimiter({ keyPrefix, points, duration: 60 }), logger, keyPrefix)
  return {
    requests: perMinute('users_core_requests', config.rate_limit.requests_per_minute),
    login: perMinute('users_core_login', config.rate_limit.login_requests_per_minute),
    createLimiter,
    state: () => (!redis ? 'memory' : redis.status === 'ready' ? 'redis' : 'redis-unavailable'),
    async close() {
      if (redis && redis.status !== 'end') {
        await redis.quit().catch(() => redis.disconnect())
      }
    },
  }
}

function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    // Fail fast instead of queueing: the insurance limiter answers while Redis is away.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 250, 2000),
  })
  let down = false
  redis.on('error', (err: Error) => {
    if (!down) {
      down = true
      logger.warn(
        { err: { message: err.message }, redis: redactUrl(url) },
        'redis unavailable: rate limits and lockouts fall back to this instance until it returns',
      )
    }
  })
  redis.on('ready', () => {
    if (down) logger.info({ redis: redactUrl(url) }, 'redis is back: shared rate limits resumed')
    down = false
  })
  return redis
}
