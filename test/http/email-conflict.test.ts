import { afterAll, afterEach, describe, expect, test } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import { createTempPostgresDatabase, postgresUnavailableReason } from '../helpers/databases.js'
import { bearer, createTestApp, json, type TestApp } from './helpers.js'

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

const pgReason = await postgresUnavailableReason()
const databases: [string, () => Promise<{ config: ConfigInput; drop?: () => Promise<void> }>][] = [
  ['SQLite', async () => ({ config: {} })],
]
if (!pgReason) {
  databases.push([
    'PostgreSQL',
    async () => {
      const db = await createTempPostgresDatabase()
      return { config: { database_url: db.url }, drop: db.drop }
    },
  ])
}

describe.each(databases)('email conflicts on %s (enumeration of addresses)', (_name, database) => {
  let t: TestApp | undefined
  const drops: (() => Promise<void>)[] = []
  afterEach(async () => {
    await t?.close()
    t = undefined
  })
  afterAll(async () => {
    for (const drop of drops) await drop()
  })
  async function fresh(): Promise<TestApp> {
    const { config, drop } = await database()
    if (drop) drops.push(drop)
    return createTestApp(config)
  }
  const put = (app: TestApp, id: string, token: string, body: Record<string, unknown>) =>
    app.app.request(`/users/${id}`, json('PUT', body, bearer(token)))

  test('a non-admin gets 5 conflicts an hour, then 429 RATE_LIMITED for any email change; each conflict audited without the address', async () => {
    t = await fresh()
    const alice = await t.createUser('alice')
    const bob = await t.createUser('bob')
    await t.core.users.update(bob.user.id, { email: 'bob@example.com' })
    const answers: string[] = []
    for (let i = 0; i < 5; i++) {
      const res = await put(t, alice.user.id, alice.token, {
        email: i % 2 ? 'BOB@example.com' : 'bob@example.com',
      })
      answers.push(`${res.status} ${await code(res)}`)
    }
    expect(answers).toEqual(Array(5).fill('409 CONFLICT'))
    const limited = await put(t, alice.user.id, alice.token, { email: 'bob@example.com' })
    expect(limited.status).toBe(429)
    expect(await code(limited)).toBe('RATE_LIMITED')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    // A free address now answers the same: a 200 would tell the taken ones apart.
    const free = await put(t, alice.user.id, alice.token, { email: 'free@example.com' })
    expect(`${free.status} ${await code(free)}`).toBe('429 RATE_LIMITED')
    // Other fields and other users are unaffected.
    expect((await put(t, alice.user.id, alice.token, { display_name: 'Alice' })).status).toBe(200)
    expect((await put(t, bob.user.id, bob.token, { email: 'bob2@example.com' })).status).toBe(200)
    const audited = await t.core.audit.list({ type: 'user.email_conflict' })
    expect(audited.total).toBe(5)
    expect(audited.items[0]).toMatchObject({ userId: alice.user.id })
    expect(JSON.stringify(audited.items).toLowerCase()).not.toContain('bob@example.com')
  })

  test('admins are not limited', async () => {
    t = await fresh()
    const carol = await t.createUser('carol')
    await t.core.users.update(carol.user.id, { email: 'carol@example.com' })
    for (let i = 0; i < 8; i++) {
      const res = await put(t, t.admin.id, t.adminToken, { email: 'carol@example.com' })
      expect(await code(res)).toBe('CONFLICT')
    }
    expect((await t.core.audit.list({ type: 'user.email_conflict' })).total).toBe(0)
  })
})
