import { Redis } from 'ioredis'
import { postgresUnavailableReason } from './databases.js'

/** The Redis the scale-out tests share (the machine's, started by .ci/run when down). */
export const TEST_REDIS_URL = process.env.USERS_CORE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Why Redis cannot be used, or undefined. */
export async function redisUnavailableReason(): Promise<string | undefined> {
  const client = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (error) {
    return `Redis unreachable at ${TEST_REDIS_URL} (${(error as Error).message})`
  } finally {
    client.disconnect()
  }
}

/**
 * Why the PostgreSQL + Redis suites cannot run here (undefined when they can). Under CI a
 * missing service is a failure, not a skip: CI starts both.
 */
export async function scaleOutUnavailableReason(): Promise<string | undefined> {
  const reason = (await postgresUnavailableReason()) ?? (await redisUnavailableReason())
  if (reason && process.env.CI === 'true') {
    throw new Error(`CI must run the PostgreSQL and Redis suites: ${reason}`)
  }
  return reason
}
