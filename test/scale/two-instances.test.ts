import { randomBytes } from 'node:crypto'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createManualClock } from '../../src/lib/clock.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import { createTempPostgresDatabase, type TempPostgresDatabase } from '../helpers/databases.js'
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js'
import { scaleOutUnavailableReason, TEST_REDIS_URL } from '../helpers/services.js'

// Two real server processes behind one PostgreSQL database and one Redis.

const unavailable = await scaleOutUnavailableReason()
const suffix = randomBytes(4).toString('hex')
const ADMIN_PASSWORD = 'Scale-Admin-Pass-1'
const GRACE_SECONDS = 1

describe.skipIf(unavailable !== undefined)(
  `two stateless instances on PostgreSQL + Redis${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let db: TempPostgresDatabase
    let a: ServerProcess
    let b: ServerProcess
    let adminToken: string

    const call = async (
      server: ServerProcess,
      path: string,
      init: RequestInit & { json?: unknown } = {},
    ) => {
      const headers = new Headers(init.headers)
      if (init.json !== undefined) headers.set('content-type', 'application/json')
      const res = await fetch(`${server.url}${path}`, {
        ...init,
        headers,
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      })
      const text = await res.text()
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
    }
    const login = (server: ServerProcess, username: string, password: string) =>
      call(server, '/auth/login', { method: 'POST', json: { username, password } })
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

    beforeAll(async () => {
      db = await createTempPostgresDatabase()
      const env = {
        USERS_CORE_DATABASE_URL: db.url,
        USERS_CORE_RATE_LIMIT_REDIS_URL: TEST_REDIS_URL,
        USERS_CORE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        USERS_CORE_RATE_LIMIT_MAX_FAILED_LOGINS: '4',
        USERS_CORE_RATE_LIMIT_LOGIN_REQUESTS_PER_MINUTE: '1000',
        USERS_CORE_RATE_LIMIT_REQUESTS_PER_MINUTE: '10000',
        USERS_CORE_JWT_REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS),
      }
      // Both start at the same moment on an empty database: migrations, keys and the admin
      // must each happen once.
      ;[a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)])
      const res = await login(a, 'admin', ADMIN_PASSWORD)
      expect(res.status).toBe(200)
      adminToken = res.body.access_token
    }, 60_000)

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()])
      await db?.drop()
    })

    it('bootstraps one admin and one key set though both started together', async () => {
      const users = await call(b, '/users?search=admin', { headers: bearer(adminToken) })
      expect(users.status).toBe(200)
      expect(users.body.filter((u: { username: string }) => u.username === 'admin')).toHaveLength(1)
      const [ja, jb] = await Promise.all([call(a, '/auth/jwks.json'), call(b, '/auth/jwks.json')])
      expect(ja.body).toEqual(jb.body)
      expect(ja.body.keys).toHaveLength(2)
    })

    it('a user created on A logs in on B', async () => {
      const username = `alice_${suffix}`
      const created = await call(a, '/users', {
        method: 'POST',
        headers: bearer(adminToken),
        json: { username, password: GOOD_PASSWORD },
      })
      expect(created.status).toBe(201)
      const res = await login(b, username, GOOD_PASSWORD)
      expect(res.status).toBe(200)
      expect(res.body.user.id).toBe(created.body.id)
    })

    it('usernames stay unique under concurrent creates across instances', async () => {
      const username = `race_${suffix}`
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call(i % 2 ? a : b, '/users', {
            method: 'POST',
            headers: bearer(adminToken),
            json: { username, password: GOOD_PASSWORD },
          }),
        ),
      )
      const statuses = results.map((r) => r.status).sort()
      expect(statuses.filter((s) => s === 201)).toHaveLength(1)
      expect(statuses.filter((s) => s === 409)).toHaveLength(9)
    })

    it('refresh on B of a token from A works; a replay on A after the grace kills the session on both', async () => {
      const username = `bob_${suffix}`
      await call(a, '/users', {
        method: 'POST',
        headers: bearer(adminToken),
        json: { username, password: GOOD_PASSWORD },
      })
      const first = await login(a, username, GOOD_PASSWORD)
      const rotated = await call(b, '/auth/refresh', {
        method: 'POST',
        json: { refresh_token: first.body.refresh_token },
      })
      expect(rotated.status).toBe(200)
      expect(rotated.body.refresh_token).not.toBe(first.body.refresh_token)
      expect(
        (await call(a, '/users/me', { headers: bearer(rotated.body.access_token) })).status,
      ).toBe(200)

      await new Promise((r) => setTimeout(r, GRACE_SECONDS * 1000 + 300))
      const replay = await call(a, '/auth/refresh', {
        method: 'POST',
        json: { refresh_token: first.body.refresh_token },
      })
      expect(replay.status).toBe(401)
      expect(replay.body.error.code).toBe('INVALID_TOKEN')
      for (const server of [a, b]) {
        const again = await call(server, '/auth/refresh', {
          method: 'POST',
          json: { refresh_token: rotated.body.refresh_token },
        })
        expect(again.status).toBe(401)
        const me = await call(server, '/users/me', { headers: bearer(rotated.body.access_token) })
        expect(me.status).toBe(401)
      }
    })

    it('a refresh token sent to A and B at the same instant rotates once', async () => {
      const username = `twin_${suffix}`
      await call(a, '/users', {
        method: 'POST',
        headers: bearer(adminToken),
        json: { username, password: GOOD_PASSWORD },
      })
      const first = await login(a, username, GOOD_PASSWORD)
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call(i % 2 ? a : b, '/auth/refresh', {
            method: 'POST',
            json: { refresh_token: first.body.refresh_token },
          }),
        ),
      )
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200))
      expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1)
    })

    it('failed logins on A and B add up to one lockout', async () => {
      const username = `carol_${suffix}`
      await call(a, '/users', {
        method: 'POST',
        headers: bearer(adminToken),
        json: { username, password: GOOD_PASSWORD },
      })
      const codes: string[] = []
      for (let i = 0; i < 4; i++) {
        const res = await login(i % 2 ? b : a, username, 'Wrong-Password-1')
        codes.push(res.body.error.code)
      }
      expect(codes).toEqual([
        'INVALID_CREDENTIALS',
        'INVALID_CREDENTIALS',
        'INVALID_CREDENTIALS',
        'ACCOUNT_LOCKED',
      ])
      for (const server of [a, b]) {
        const res = await login(server, username, GOOD_PASSWORD)
        expect(res.status).toBe(429)
        expect(res.body.error.code).toBe('ACCOUNT_LOCKED')
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      }
    })

    it('publishes the same JWKS before and after a rotation on A; tokens signed after it verify with B', async () => {
      const before = await Promise.all([call(a, '/auth/jwks.json'), call(b, '/auth/jwks.json')])
      expect(before[0].body).toEqual(before[1].body)
      const rotated = await call(a, '/admin/keys/rotate', {
        method: 'POST',
        headers: bearer(adminToken),
      })
      expect(rotated.status).toBe(200)
      // B re-reads the key set on a short timer (10 s); wait for it, bounded.
      let same = false
      for (let i = 0; i < 30 && !same; i++) {
        const [ja, jb] = await Promise.all([call(a, '/auth/jwks.json'), call(b, '/auth/jwks.json')])
        same = JSON.stringify(ja.body) === JSON.stringify(jb.body)
        if (!same) await new Promise((r) => setTimeout(r, 500))
      }
      expect(same).toBe(true)
      expect((await call(b, '/auth/jwks.json')).body).toEqual(rotated.body)
      const token = (await login(a, 'admin', ADMIN_PASSWORD)).body.access_token
      const { payload } = await jwtVerify(
        token,
        createRemoteJWKSet(new URL(`${b.url}/auth/jwks.json`)),
        {
          issuer: 'https://users.rvoip.local',
          audience: 'rvoip-api',
        },
      )
      expect(payload.username).toBe('admin')
      expect((await call(b, '/users/me', { headers: bearer(token) })).status).toBe(200)
    }, 30_000)
  },
)

describe.skipIf(unavailable !== undefined)(
  `due key rotation across instances${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('two instances due to rotate at once rotate once', async () => {
      const db = await createTempPostgresDatabase()
      try {
        const clock = createManualClock(new Date('2026-05-01T00:00:00Z'))
        const config = { database_url: db.url, jwt: { key_rotation_days: 1 } }
        const one = await createTestCore(config, { clock })
        const two = await createTestCore(config, { clock })
        try {
          clock.advance(2 * 86_400_000)
          const results = await Promise.all([
            one.core.keys.rotateIfDue(),
            two.core.keys.rotateIfDue(),
          ])
          expect(results.filter(Boolean)).toHaveLength(1)
          await Promise.all([one.core.keys.reload(), two.core.keys.reload()])
          expect(await one.core.jwks()).toEqual(await two.core.jwks())
          expect((await one.core.jwks()).keys).toHaveLength(3)
          const rotations = await one.core.audit.list({ type: 'signing_key.rotated' })
          expect(rotations.total).toBe(1)
        } finally {
          await one.core.close()
          await two.core.close()
        }
      } finally {
        await db.drop()
      }
    })
  },
)
