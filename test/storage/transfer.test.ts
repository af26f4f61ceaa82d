import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import type { UserRecord } from '../../src/domain/records.js'
import type { Store, UserCursor } from '../../src/domain/store.js'
import { openStore } from '../../src/storage/open-store.js'
import type { ExportedUser, ImportUserInput, UsersCore } from '../../src/types.js'
import { createTestCore } from '../helpers/create-test-core.js'
import { createTempPostgresDatabase, postgresUnavailableReason } from '../helpers/databases.js'

// Export walks users oldest first by keyset, import goes through the bulk insert: on SQLite and
// PostgreSQL, with users created while an export runs and duplicates inside an import batch.

const pgUnavailable = await postgresUnavailableReason()
const dir = mkdtempSync(join(tmpdir(), 'users-core-transfer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const HASH = bcrypt.hashSync('Bcrypt-Pass-42', 4)
const T0 = Date.parse('2026-01-01T00:00:00Z')

interface Target {
  name: string
  unavailable: string | undefined
  url(): Promise<{ url: string; drop(): Promise<void> }>
}

const targets: Target[] = [
  {
    name: 'SQLite',
    unavailable: undefined,
    url: async () => ({
      url: `sqlite://${join(mkdtempSync(join(dir, 'db-')), 'users.db')}`,
      drop: async () => {},
    }),
  },
  {
    name: 'PostgreSQL',
    unavailable: pgUnavailable,
    async url() {
      const db = await createTempPostgresDatabase()
      return { url: db.url, drop: db.drop }
    },
  },
]

function line(username: string, extra: Partial<ImportUserInput> = {}): ImportUserInput {
  return { username, password_hash: HASH, ...extra }
}

/** Sorted as the export promises: `(created_at, id)` ascending. */
function isOldestFirst(users: { created_at: string; id: string }[]): boolean {
  return users.every((u, i) => {
    const prev = users[i - 1]
    if (prev === undefined) return true
    const a = Date.parse(prev.created_at)
    const b = Date.parse(u.created_at)
    return a < b || (a === b && prev.id < u.id)
  })
}

function record(i: number, createdAt: number): UserRecord {
  const at = new Date(createdAt)
  return {
    id: crypto.randomUUID(),
    username: `walk${i}`,
    email: null,
    displayName: null,
    roles: ['user'],
    active: true,
    passwordHash: HASH,
    createdAt: at,
    updatedAt: at,
    lastLogin: null,
  }
}

for (const target of targets) {
  const label = target.unavailable
    ? `import and export on ${target.name} (skipped: ${target.unavailable})`
    : `import and export on ${target.name}`

  describe.skipIf(target.unavailable !== undefined)(label, { timeout: 60_000 }, () => {
    async function withCore(work: (core: UsersCore, url: string) => Promise<void>) {
      const db = await target.url()
      const { core } = await createTestCore({ database_url: db.url })
      try {
        await work(core, db.url)
      } finally {
        await core.close()
        await db.drop()
      }
    }

    it('pages oldest first by (created_at, id), unshifted by users inserted between pages', async () => {
      const db = await target.url()
      const store: Store = await openStore(parseConfig({ database_url: db.url }))
      try {
        await store.migrate()
        // Ties in created_at (three users a millisecond) are ordered by id.
        const before = Array.from({ length: 20 }, (_, i) => record(i, T0 + Math.floor(i / 3)))
        await store.insertUsers(before, [])
        const seen: UserRecord[] = []
        let after: UserCursor | undefined
        for (let n = 100; ; n++) {
          const page = await store.listUsersOldestFirst(after, 3)
          seen.push(...page)
          const last = page.at(-1)
          if (last === undefined || page.length < 3) break
          after = { createdAt: last.createdAt, id: last.id }
          // One newer and one older than every page so far, as a running service might add.
          await store.insertUser(record(n, T0 + 1_000_000 + n), [])
          await store.insertUser(record(n + 1000, T0 - 1000 - n), [])
        }
        const ids = seen.map((u) => u.id)
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.slice(0, 20)).toEqual(
          [...before]
            .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
            .map((u) => u.id),
        )
        const exported = seen.map((u) => ({ id: u.id, created_at: u.createdAt.toISOString() }))
        expect(isOldestFirst(exported)).toBe(true)
      } finally {
        await store.close()
        await db.drop()
      }
    })

    it('exports every user once, oldest first, while users are created during the export', async () => {
      await withCore(async (core) => {
        const rows = Array.from({ length: 1100 }, (_, i) =>
          line(`old${i}`, { created_at: new Date(T0 + (i % 700) * 1000).toISOString() }),
        )
        const imported = await core.users.importBatch(rows)
        expect(imported.every((r) => r.status === 'imported')).toBe(true)

        const exported: ExportedUser[] = []
        let created = 0
        for await (const user of core.users.exportAll()) {
          exported.push(user)
          if (exported.length % 200 === 0) {
            created++
            // The newest user so far, and one older than where the export is.
            await core.users.importBatch([
              line(`new${created}`),
              line(`early${created}`, { created_at: new Date(T0 - created).toISOString() }),
            ])
          }
        }
        const ids = exported.map((u) => u.id)
        expect(new Set(ids).size).toBe(ids.length)
        const names = new Set(exported.map((u) => u.username))
        for (const row of rows) expect(names.has(row.username)).toBe(true)
        expect(isOldestFirst(exported)).toBe(true)
      })
    })

    it('reports a duplicate username in the middle of a batch as skipped, imports the rest', async () => {
      await withCore(async (core) => {
        await core.users.importBatch([line('taken', { email: 'taken@example.com' })])
        const results = await core.users.importBatch([
          line('ann'),
          line('bob', { email: 'bob@example.com' }),
          line('TAKEN'),
          line('cid', { email: 'TAKEN@example.com' }),
          line('Ann'),
          line('dee', { email: 'BOB@example.com' }),
          line('eve', { active: 'no' as unknown as boolean }),
          line('fay'),
        ])
        expect(results).toEqual([
          { status: 'imported', id: expect.any(String) },
          { status: 'imported', id: expect.any(String) },
          { status: 'skipped', reason: 'username exists' },
          { status: 'skipped', reason: 'email exists' },
          { status: 'skipped', reason: 'username exists' },
          { status: 'skipped', reason: 'email exists' },
          { status: 'failed', reason: expect.stringMatching(/^active: /) },
          { status: 'imported', id: expect.any(String) },
        ])
        expect((await core.users.list()).items.map((u) => u.username).sort()).toEqual([
          'ann',
          'bob',
          'fay',
          'taken',
        ])
        // One user.created event per imported user, in the order of the lines.
        const events = await core.audit.list({ type: 'user.created', limit: 100 })
        const created = events.items.map((e) => e.details.username).reverse()
        expect(created).toEqual(['taken', 'ann', 'bob', 'fay'])
        expect(events.items.every((e) => e.details.source === 'import')).toBe(true)
        expect((await core.audit.verify()).ok).toBe(true)
      })
    })
  })
}
