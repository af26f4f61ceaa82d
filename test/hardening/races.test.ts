import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import {
  createTempPostgresDatabase,
  postgresUnavailableReason,
  type TempPostgresDatabase,
} from '../helpers/databases.js'
import { bearer, createTestApp, json, type TestApp, USER_PASSWORD } from '../http/helpers.js'

// Races: many requests for one thing at the same moment, through the HTTP app, on
// SQLite and on PostgreSQL (where the requests really run on separate connections).

const pgUnavailable = await postgresUnavailableReason()
if (pgUnavailable && process.env.CI === 'true') {
  throw new Error(`CI must run the PostgreSQL race tests: ${pgUnavailable}`)
}

interface Backend {
  name: string
  unavailable: string | undefined
  open(): Promise<{ config: ConfigInput; drop(): Promise<void> }>
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    unavailable: undefined,
    open: async () => ({ config: { database_url: 'sqlite::memory:' }, drop: async () => {} }),
  },
  {
    name: 'PostgreSQL',
    unavailable: pgUnavailable,
    async open() {
      const db: TempPostgresDatabase = await createTempPostgresDatabase()
      return { config: { database_url: db.url, database_pool_size: 10 }, drop: db.drop }
    },
  },
]

type Body = { error?: { code?: string } } & Record<string, unknown>

async function all(
  t: TestApp,
  n: number,
  request: (i: number) => [string, RequestInit],
): Promise<{ status: number; body: Body }[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await t.app.request(...request(i))
      return { status: res.status, body: (await res.json()) as Body }
    }),
  )
}

const statuses = (results: { status: number }[]) =>
  results.reduce<Record<number, number>>((acc, r) => {
    acc[r.status] = (acc[r.status] ?? 0) + 1
    return acc
  }, {})

for (const backend of backends) {
  const label = backend.unavailable
    ? `races on ${backend.name} (skipped: ${backend.unavailable})`
    : `races on ${backend.name}`

  describe.skipIf(backend.unavailable !== undefined)(label, { timeout: 60_000 }, () => {
    let t: TestApp
    let drop: () => Promise<void>

    beforeAll(async () => {
      const opened = await backend.open()
      drop = opened.drop
      t = await createTestApp({
        ...opened.config,
        jwt: { algorithm: 'ES256', refresh_reuse_grace_seconds: 10 },
      })
    }, 30_000)

    afterAll(async () => {
      await t?.close()
      await drop?.()
    })

    it('50 parallel refreshes of one token: one rotation, the same new token for all 50', async () => {
      const { user } = await t.createUser('refresh_racer')
      const login = await t.login('refresh_racer', USER_PASSWORD)
      const old = login.refresh_token as string

      const results = await all(t, 50, () => [
        '/auth/refresh',
        json('POST', { refresh_token: old }),
      ])
      expect(statuses(results)).toEqual({ 200: 50 })
      const newTokens = new Set(results.map((r) => r.body.refresh_token))
      expect(newTokens.size).toBe(1)
      const [next] = newTokens as Set<string>
      expect(next).not.toBe(old)
      // Each answer still carries its own fresh access token.
      const jtis = new Set(results.map((r) => decodeJwt(r.body.access_token as string).jti))
      expect(jtis.size).toBe(50)

      const refreshed = await t.core.audit.list({ type: 'token.refreshed', userId: user.id })
      expect(refreshed.total).toBe(1)
      const reuse = await t.core.audit.list({ type: 'token.reuse_detected', userId: user.id })
      expect(reuse.total).toBe(0)

      // The session lives on: the shared new token rotates once more.
      const again = await t.app.request('/auth/refresh', json('POST', { refresh_token: next }))
      expect(again.status).toBe(200)
    })

    it('20 parallel creates of one username (mixed case): one 201, nineteen 409 CONFLICT', async () => {
      const results = await all(t, 20, (i) => [
        '/users',
        json(
          'POST',
          { username: i % 2 === 0 ? 'Same_Name' : 'same_name', password: USER_PASSWORD },
          bearer(t.adminToken),
        ),
      ])
      expect(statuses(results)).toEqual({ 201: 1, 409: 19 })
      for (const r of results.filter((r) => r.status === 409)) {
        expect(r.body.error?.code).toBe('CONFLICT')
      }
      const found = await t.core.users.list({ search: 'same_name' })
      expect(found.total).toBe(1)
    })

    it('parallel API-key creates with one name for one owner: one 201, the rest 409 CONFLICT', async () => {
      const { user } = await t.createUser('key_racer')
      const results = await all(t, 20, () => [
        `/users/${user.id}/api-keys`,
        json('POST', { name: 'pbx-trunk', permissions: ['read'] }, bearer(t.adminToken)),
      ])
      expect(statuses(results)).toEqual({ 201: 1, 409: 19 })
      for (const r of results.filter((r) => r.status === 409)) {
        expect(r.body.error?.code).toBe('CONFLICT')
      }
      const keys = await t.core.apiKeys.list(user.id)
      expect(keys.map((k) => k.name)).toEqual(['pbx-trunk'])
      const created = await t.core.audit.list({ type: 'api_key.created', userId: user.id })
      expect(created.total).toBe(1)
    })
  })
}
