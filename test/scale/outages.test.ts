import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { type RunningServer, startServer } from '../../src/http/serve.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { GOOD_PASSWORD, testConfig } from '../helpers/create-test-core.js'
import { createTempPostgresDatabase, type TempPostgresDatabase } from '../helpers/databases.js'
import { scaleOutUnavailableReason } from '../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'

// What one instance does when PostgreSQL or Redis goes away, and that it recovers.
// Each service is reached through a loopback proxy the test can cut, so the shared servers
// other suites use are never stopped.

const unavailable = await scaleOutUnavailableReason()

describe.skipIf(unavailable !== undefined)(
  `outages of PostgreSQL and Redis${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let db: TempPostgresDatabase
    let pgProxy: TcpProxy
    let redisProxy: TcpProxy
    let core: UsersCore
    let server: RunningServer
    let logLines: string[]

    beforeAll(async () => {
      db = await createTempPostgresDatabase()
      pgProxy = await startTcpProxy(5432)
      redisProxy = await startTcpProxy(6379)
      const url = new URL(db.url)
      url.port = String(pgProxy.port)
      const config = parseConfig(
        testConfig({
          database_url: url.toString(),
          api_bind_address: '127.0.0.1:0',
          log_level: 'warn',
          rate_limit: {
            redis_url: `redis://127.0.0.1:${redisProxy.port}`,
            login_requests_per_minute: 3,
            max_failed_logins: 50,
          },
        }),
      )
      logLines = []
      const logger = createLogger('info', {
        write: (line: string) => {
          logLines.push(line)
        },
      })
      core = await init(config, { logger })
      await core.createUser({ username: 'outage', password: GOOD_PASSWORD, roles: ['admin'] })
      server = await startServer({ core, config, logger })
    }, 30_000)

    afterAll(async () => {
      await server?.close()
      await pgProxy?.close()
      await redisProxy?.close()
      await db?.drop()
    })

    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, { headers })
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are read ad hoc in assertions
    const json = async (res: Response): Promise<any> => res.json()
    const login = () =>
      fetch(`${server.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'outage', password: GOOD_PASSWORD }),
      })

    it('names the port it really bound in links when started on port 0', async () => {
      const discovery = (await (await get('/.well-known/openid-configuration')).json()) as {
        jwks_uri: string
      }
      expect(discovery.jwks_uri).toBe(`${server.url}/.well-known/jwks.json`)
    })

    it('answers 503 UNAVAILABLE with Retry-After while PostgreSQL is down, and recovers by itself', async () => {
      const token = (await json(await login())).access_token as string
      expect((await get('/ready')).status).toBe(200)
      await pgProxy.cut()
      try {
        const ready = await get('/ready')
        expect(ready.status).toBe(503)
        const health = await get('/health')
        expect(health.status).toBe(503)
        expect((await json(health)).status).toBe('unhealthy')
        const me = await get('/users/me', { authorization: `Bearer ${token}` })
        expect(me.status).toBe(503)
        expect(me.headers.get('retry-after')).toMatch(/^\d+$/)
        expect((await json(me)).error.code).toBe('UNAVAILABLE')
        // Keys are served from memory: validators keep working during the outage.
        expect((await get('/auth/jwks.json')).status).toBe(200)
      } finally {
        await pgProxy.restore()
      }
      let recovered = false
      for (let i = 0; i < 40 && !recovered; i++) {
        recovered = (await get('/ready')).status === 200
        if (!recovered) await new Promise((r) => setTimeout(r, 250))
      }
      expect(recovered).toBe(true)
      expect((await get('/users/me', { authorization: `Bearer ${token}` })).status).toBe(200)
    }, 30_000)

    it('keeps answering, with per-instance limits, while Redis is down, and never with a 500', async () => {
      const admin = await core.authenticatePassword('outage', GOOD_PASSWORD)
      const storeUp = async () => {
        const text = await (
          await get('/metrics', { authorization: `Bearer ${admin.accessToken}` })
        ).text()
        return /^users_core_rate_limit_store_up (\d)/m.exec(text)?.[1]
      }
      expect(await storeUp()).toBe('1')
      await redisProxy.cut()
      try {
        await new Promise((r) => setTimeout(r, 300))
        expect(await storeUp()).toBe('0')
        const statuses: number[] = []
        for (let i = 0; i < 5; i++) statuses.push((await login()).status)
        expect(statuses.every((s) => s < 500)).toBe(true)
        // The memory fallback still enforces login_requests_per_minute = 3 on this instance.
        expect(statuses).toContain(429)
        expect(logLines.join('')).toContain('redis unavailable')
        const refresh = await fetch(`${server.url}/auth/refresh`, { method: 'POST' })
        expect(refresh.status).toBeLessThan(500)
      } finally {
        await redisProxy.restore()
      }
      let back = false
      for (let i = 0; i < 40 && !back; i++) {
        back = (await storeUp()) === '1'
        if (!back) await new Promise((r) => setTimeout(r, 250))
      }
      expect(back).toBe(true)
      expect(logLines.join('')).toContain('redis is back')
    }, 30_000)
  },
)
