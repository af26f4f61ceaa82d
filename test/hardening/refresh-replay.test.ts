import { randomBytes } from 'node:crypto'
import type { Hono } from 'hono'
import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { createApp } from '../../src/http/app.js'
import type { AppEnv } from '../../src/http/context.js'
import { createManualClock, type ManualClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import { FORMER_REFRESH_GENERATIONS } from '../../src/sessions/refresh-decision.js'
import type { UsersCore } from '../../src/types.js'
import { createTempPostgresDatabase, postgresUnavailableReason } from '../helpers/databases.js'
import { json, testConfig, USER_PASSWORD } from '../http/helpers.js'

// Reuse detection must not be a way to kill someone else's session: the session id is in clear
// in every access token, so only a token the session really issued may revoke it (SPEC §4.3).

const pgUnavailable = await postgresUnavailableReason()
if (pgUnavailable && process.env.CI === 'true') {
  throw new Error(`CI must run the PostgreSQL refresh-replay tests: ${pgUnavailable}`)
}

const backends: {
  name: string
  unavailable: string | undefined
  open(): Promise<{ url: string; drop?: () => Promise<void> }>
}[] = [
  { name: 'SQLite', unavailable: undefined, open: async () => ({ url: 'sqlite::memory:' }) },
  {
    name: 'PostgreSQL',
    unavailable: pgUnavailable,
    open: async () => {
      const db = await createTempPostgresDatabase()
      return { url: db.url, drop: db.drop }
    },
  },
]

type Tokens = { access_token: string; refresh_token: string }
type ErrorBody = { error: { code: string } }

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== undefined)(`refresh replay on ${backend.name}`, () => {
    let core: UsersCore
    let app: Hono<AppEnv>
    let clock: ManualClock
    let drop: (() => Promise<void>) | undefined

    beforeEach(async () => {
      const opened = await backend.open()
      drop = opened.drop
      clock = createManualClock(new Date('2026-03-01T12:00:00Z'))
      const config: ConfigInput = {
        database_url: opened.url,
        jwt: { refresh_reuse_grace_seconds: 10 },
        rate_limit: { login_requests_per_minute: 100_000, requests_per_minute: 100_000 },
      }
      const logger = createLogger('silent')
      core = await init(testConfig(config), { logger, clock })
      app = createApp(core, { logger })
      await core.createUser({ username: 'victim', password: USER_PASSWORD })
    })
    afterEach(async () => {
      await core.close()
      await drop?.()
    })

    async function login(): Promise<Tokens> {
      const res = await app.request(
        '/auth/login',
        json('POST', { username: 'victim', password: USER_PASSWORD }),
      )
      expect(res.status).toBe(200)
      return (await res.json()) as Tokens
    }

    function refresh(token: string): Promise<Response> {
      return Promise.resolve(app.request('/auth/refresh', json('POST', { refresh_token: token })))
    }

    async function refreshed(token: string): Promise<Tokens> {
      const res = await refresh(token)
      expect(res.status).toBe(200)
      return (await res.json()) as Tokens
    }

    async function expectInvalidToken(token: string): Promise<void> {
      const res = await refresh(token)
      expect(res.status).toBe(401)
      expect(((await res.json()) as ErrorBody).error.code).toBe('INVALID_TOKEN')
    }

    const auditCount = async (type: 'token.reuse_detected' | 'session.revoked') =>
      (await core.audit.list({ type })).total

    it('a forged token for the victim session id is INVALID_TOKEN and changes nothing', async () => {
      const victim = await login()
      const sid = decodeJwt(victim.access_token).sid as string
      const before = await core.audit.list({ limit: 1 })
      for (const secret of ['A'.repeat(43), randomBytes(32).toString('base64url')]) {
        await expectInvalidToken(`${sid}.${secret}`)
      }
      clock.advance(60_000)
      await expectInvalidToken(`${sid}.${randomBytes(32).toString('base64url')}`)
      expect(await auditCount('token.reuse_detected')).toBe(0)
      expect(await auditCount('session.revoked')).toBe(0)
      // Not a single write: the newest audit event is still the login's.
      expect((await core.audit.list({ limit: 1 })).items).toEqual(before.items)
      const next = await refreshed(victim.refresh_token)
      expect(next.refresh_token).not.toBe(victim.refresh_token)
    })

    it('a forged token after rotations still changes nothing', async () => {
      const first = await login()
      const sid = decodeJwt(first.access_token).sid as string
      const second = await refreshed(first.refresh_token)
      const third = await refreshed(second.refresh_token)
      await expectInvalidToken(`${sid}.${randomBytes(32).toString('base64url')}`)
      expect(await auditCount('token.reuse_detected')).toBe(0)
      await refreshed(third.refresh_token)
    })

    it('a real token two generations back revokes the session and is audited', async () => {
      const first = await login()
      const second = await refreshed(first.refresh_token)
      const third = await refreshed(second.refresh_token)
      // Inside the grace of the latest rotation, yet not the token that rotation replaced.
      await expectInvalidToken(first.refresh_token)
      expect(await auditCount('token.reuse_detected')).toBe(1)
      expect(await auditCount('session.revoked')).toBe(1)
      await expectInvalidToken(third.refresh_token)
      const me = await app.request('/users/me', {
        headers: { authorization: `Bearer ${third.access_token}` },
      })
      expect(me.status).toBe(401)
    })

    it('the previous token inside the grace gets the same new token; after the grace it revokes', async () => {
      const first = await login()
      const second = await refreshed(first.refresh_token)
      clock.advance(9_000)
      const repeat = await refreshed(first.refresh_token)
      expect(repeat.refresh_token).toBe(second.refresh_token)
      expect(await auditCount('token.reuse_detected')).toBe(0)
      clock.advance(2_000)
      await expectInvalidToken(first.refresh_token)
      expect(await auditCount('token.reuse_detected')).toBe(1)
      await expectInvalidToken(second.refresh_token)
    })

    it(`remembers ${FORMER_REFRESH_GENERATIONS} former tokens; an older one is just INVALID_TOKEN`, async () => {
      const tokens = [(await login()).refresh_token]
      for (let i = 0; i <= FORMER_REFRESH_GENERATIONS; i++) {
        const previous = tokens.at(-1) as string
        tokens.push((await refreshed(previous)).refresh_token)
      }
      clock.advance(11_000)
      // tokens[0] is FORMER_REFRESH_GENERATIONS + 1 rotations back: forgotten.
      await expectInvalidToken(tokens[0] as string)
      expect(await auditCount('token.reuse_detected')).toBe(0)
      await expectInvalidToken(tokens[1] as string)
      expect(await auditCount('token.reuse_detected')).toBe(1)
      await expectInvalidToken(tokens.at(-1) as string)
    })
  })
}
