import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { afterEach, describe, expect, test } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/lib/logger.js'
import { type LimiterFactory, memoryLimiterFactory } from '../../src/lockout/login-lockout.js'
import {
  createLimiterBackend,
  type LimiterBackend,
} from '../../src/storage/redis/limiter-backend.js'
import type { UsersCore } from '../../src/types.js'
import { redisUnavailableReason, TEST_REDIS_URL } from '../helpers/services.js'
import { json, testConfig, USER_PASSWORD } from './helpers.js'

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

/** Usernames near the body limit: plain, and U+FDFA, which NFKC expands eighteenfold. */
const HUGE_NAMES = [
  'a'.repeat(60_000),
  '\uFDFA'.repeat(20_000),
  `${'x'.repeat(40)}`,
  'ab',
  'al ice',
]

/** Every key the lockout's limiter was asked about, through a factory that wraps it. */
function recordingFactory(inner: LimiterFactory) {
  const keys: string[] = []
  const factory: LimiterFactory = (options) => {
    const limiter = inner(options)
    return new Proxy(limiter, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver)
        if (typeof value !== 'function') return value
        return (key: unknown, ...rest: unknown[]) => {
          if (typeof key === 'string') keys.push(key)
          return value.call(target, key, ...rest)
        }
      },
    }) as RateLimiterAbstract
  }
  return { factory, keys }
}

let core: UsersCore | undefined
let backend: LimiterBackend | undefined
afterEach(async () => {
  await core?.close()
  await backend?.close()
  core = undefined
  backend = undefined
})

async function appWith(limiters: LimiterFactory) {
  const logger = createLogger('silent')
  core = await init(testConfig({ rate_limit: { login_requests_per_minute: 10_000 } }), {
    logger,
    limiters,
  })
  await core.createUser({ username: 'alice', password: USER_PASSWORD })
  return createApp(core, { logger })
}

const login = (app: Awaited<ReturnType<typeof appWith>>, username: string, password = 'x') =>
  app.request('/auth/login', json('POST', { username, password }))

describe('lockout keys (memory)', () => {
  test('a name that cannot be a username answers INVALID_CREDENTIALS and stores nothing', async () => {
    const { factory, keys } = recordingFactory(memoryLimiterFactory)
    const app = await appWith(factory)
    for (let i = 0; i < 20; i++) {
      for (const name of HUGE_NAMES) {
        const res = await login(app, name)
        expect(res.status).toBe(401)
        expect(await code(res)).toBe('INVALID_CREDENTIALS')
      }
    }
    expect(keys).toEqual([])
    // Still audited, without the name.
    const failed = await core?.audit.list({ type: 'user.login.failed', limit: 1000 })
    expect(failed?.total).toBe(20 * HUGE_NAMES.length)
    expect(JSON.stringify(failed?.items)).not.toContain('aaaaaaaaaa')
  })

  test('valid names are keyed by a fixed-size hash of the lower-cased name and the IP', async () => {
    const { factory, keys } = recordingFactory(memoryLimiterFactory)
    const app = await appWith(factory)
    for (let i = 0; i < 5; i++) await login(app, `Ghost${i}-${'g'.repeat(25)}`)
    await login(app, 'ALICE')
    await login(app, 'alice')
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(new Set(keys).size).toBe(6)
    // The lower-cased name: ALICE and alice share one count (and a success resets it).
    expect((await login(app, 'Alice', USER_PASSWORD)).status).toBe(200)
  })
})

const redisUnavailable = await redisUnavailableReason()

describe.skipIf(redisUnavailable !== undefined)(
  `lockout keys on Redis${redisUnavailable ? ` (skipped: ${redisUnavailable})` : ''}`,
  () => {
    test('huge names store nothing; every stored key is fixed-size', async () => {
      const prefix = `users_core_test_${randomBytes(4).toString('hex')}`
      const config = parseConfig(testConfig({ rate_limit: { redis_url: TEST_REDIS_URL } }))
      backend = createLimiterBackend(config, createLogger('silent'))
      const shared = backend
      const app = await appWith((options) =>
        shared.createLimiter({ ...options, keyPrefix: `${prefix}_${options.keyPrefix}` }),
      )
      const redis = new Redis(TEST_REDIS_URL)
      try {
        for (let i = 0; i < 10; i++) {
          for (const name of HUGE_NAMES) expect((await login(app, name)).status).toBe(401)
        }
        expect(await redis.keys(`${prefix}*`)).toEqual([])
        for (let i = 0; i < 10; i++) await login(app, `ghost${i}`)
        const stored = await redis.keys(`${prefix}*`)
        expect(stored).toHaveLength(10)
        for (const key of stored) {
          expect(key).toMatch(new RegExp(`^${prefix}_users_core_lockout:[0-9a-f]{64}$`))
          expect(await redis.strlen(key)).toBeLessThan(8)
        }
        if (stored.length > 0) await redis.del(...stored)
      } finally {
        redis.disconnect()
      }
    })
  },
)
