import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Kysely, type SqlBool, sql } from 'kysely'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { computeAuditHash, GENESIS_HASH } from '../../src/audit/chain.js'
import type {
  ApiKeyRecord,
  AuditEventInput,
  AuditEventType,
  MfaFactorRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from '../../src/domain/records.js'
import type { Store } from '../../src/domain/store.js'
import { isUsersError, type UsersError } from '../../src/errors.js'
import { createKyselyStore, type KyselyStoreOptions } from '../../src/storage/kysely-store.js'
import { MIGRATIONS } from '../../src/storage/migrations/index.js'
import { runMigrations } from '../../src/storage/migrator.js'
import { createPostgresKysely } from '../../src/storage/postgres/open.js'
import { sessionToRow } from '../../src/storage/row-mapping.js'
import type { Database, SessionsTable } from '../../src/storage/schema.js'
import { createSqliteKysely, openSqliteKysely } from '../../src/storage/sqlite/open.js'
import {
  createTempPostgresDatabase,
  postgresUnavailableReason,
  type TempPostgresDatabase,
} from '../helpers/databases.js'

const ALL_MIGRATIONS = MIGRATIONS.map((m) => m.name)

// One contract, every database (kysely's habit): each target opens a fresh, migrated store per
// test; `sibling()` opens a second store on the same database, as a second process would.

interface Opened {
  store: Store
  /** Another store on the same database (a second instance); SQLite memory shares the first. */
  sibling(): Promise<Store>
  /** Closes every store opened here and drops the database. */
  cleanup(): Promise<void>
  /** Opens a new store on the same database (file and server databases only). */
  openAnother?: () => Store
  /** Kills the server side of every connection (PostgreSQL only). */
  terminateConnections?: () => Promise<void>
  /** `count(*)` of users, straight from the database: the truth maintained totals must match. */
  countUserRows(active?: boolean): Promise<number>
}

interface Target {
  name: string
  open(): Promise<Opened>
  /**
   * A new, empty database that no migration has touched, with a Kysely to migrate it and the
   * options a store over it needs.
   */
  openEmpty(): Promise<{
    db: Kysely<Database>
    options: KyselyStoreOptions
    cleanup(): Promise<void>
  }>
  /** Releases what the target keeps across tests. */
  dispose?(): Promise<void>
}

const T0 = Date.parse('2026-03-01T12:00:00Z')
const at = (seconds: number) => new Date(T0 + seconds * 1000)

function sqliteMemory(): Target {
  return {
    name: 'SQLite in memory',
    async open() {
      const { db: kysely, changeStamp, connection } = openSqliteKysely('sqlite::memory:')
      const store = createKyselyStore(kysely, 'sqlite', { changeStamp, connection })
      await store.migrate()
      return {
        store,
        sibling: async () => store,
        cleanup: () => store.close(),
        countUserRows: (active) => countRows(kysely, active),
      }
    },
    async openEmpty() {
      const { db: kysely, connection } = openSqliteKysely('sqlite::memory:')
      return { db: kysely, options: { connection }, cleanup: () => kysely.destroy() }
    },
  }
}

function sqliteFile(): Target {
  return {
    name: 'SQLite file',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'users-core-store-'))
      const url = `sqlite://${join(dir, 'users.db')}`
      const stores: Store[] = []
      const openOne = () => {
        // As open-store does: the change stamp, and list reads on the reader's thread.
        const { db, changeStamp, reader, connection } = openSqliteKysely(url)
        const s = createKyselyStore(db, 'sqlite', {
          changeStamp,
          connection,
          ...(reader && { reader }),
        })
        stores.push(s)
        return s
      }
      const store = openOne()
      await store.migrate()
      const reader = createSqliteKysely(url)
      return {
        store,
        // In one thread a second SQLite connection would block on busy_timeout while the
        // first waits for the event loop, so concurrency is exercised on the one connection.
        sibling: async () => store,
        cleanup: async () => {
          for (const s of stores) await s.close().catch(() => undefined)
          await reader.destroy()
          rmSync(dir, { recursive: true, force: true })
        },
        openAnother: openOne,
        countUserRows: (active) => countRows(reader, active),
      }
    },
    async openEmpty() {
      const dir = mkdtempSync(join(tmpdir(), 'users-core-store-'))
      const { db: kysely, connection } = openSqliteKysely(`sqlite://${join(dir, 'users.db')}`)
      return {
        db: kysely,
        options: { connection },
        cleanup: async () => {
          await kysely.destroy()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  }
}

function postgres(): Target {
  // One database per run, emptied between tests: creating and dropping a PostgreSQL database
  // per test costs a checkpoint each time.
  let shared: Promise<{ database: TempPostgresDatabase; admin: Kysely<Database> }> | undefined
  const setUp = async () => {
    const database = await createTempPostgresDatabase()
    const admin = createPostgresKysely(database.url, { poolSize: 1 })
    const migrated = createKyselyStore(
      createPostgresKysely(database.url, { poolSize: 1 }),
      'postgres',
    )
    await migrated.migrate()
    await migrated.close()
    return { database, admin }
  }
  return {
    name: 'PostgreSQL',
    async open() {
      shared ??= setUp()
      const { database, admin } = await shared
      for (const table of [
        'sessions',
        'api_keys',
        'users',
        'signing_keys',
        'denied_jtis',
        'audit_events',
      ] as const) {
        await admin.deleteFrom(table).execute()
      }
      await admin
        .updateTable('audit_chain')
        .set({ head_seq: 0, head_hash: GENESIS_HASH, anchor_seq: 0, anchor_hash: GENESIS_HASH })
        .execute()
      const stores: Store[] = []
      const openOne = () => {
        const s = createKyselyStore(createPostgresKysely(database.url, { poolSize: 4 }), 'postgres')
        stores.push(s)
        return s
      }
      return {
        store: openOne(),
        sibling: async () => openOne(),
        cleanup: async () => {
          for (const s of stores) await s.close().catch(() => undefined)
        },
        openAnother: openOne,
        terminateConnections: database.terminateConnections,
        countUserRows: (active) => countRows(admin, active),
      }
    },
    async openEmpty() {
      const database = await createTempPostgresDatabase()
      const kysely = createPostgresKysely(database.url, { poolSize: 2 })
      return {
        db: kysely,
        options: {},
        cleanup: async () => {
          await kysely.destroy()
          await database.drop()
        },
      }
    },
    async dispose() {
      if (shared === undefined) return
      const { database, admin } = await shared
      await admin.destroy()
      await database.drop()
    },
  }
}

async function countRows(kysely: Kysely<Database>, active?: boolean): Promise<number> {
  let query = kysely.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n'))
  if (active !== undefined) {
    // Stored as boolean on PostgreSQL, 0/1 on SQLite: compare in SQL either way.
    query = query.where(sql<SqlBool>`(active = ${sql.lit(true)}) = ${sql.lit(active)}`)
  }
  const row = await query.executeTakeFirstOrThrow()
  return Number(row.n)
}

function user(overrides: Partial<UserRecord> = {}): UserRecord {
  const username = overrides.username ?? `user_${randomUUID().slice(0, 8)}`
  return {
    id: randomUUID(),
    username,
    email: `${username.toLowerCase()}@example.com`,
    displayName: null,
    roles: ['user'],
    active: true,
    passwordHash: '$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA',
    createdAt: at(0),
    updatedAt: at(0),
    lastLogin: null,
    ...overrides,
  }
}

function session(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(),
    userId,
    refreshHash: `h-${randomUUID()}`,
    previousRefreshHash: null,
    rotatedAt: null,
    sealedRefreshToken: null,
    formerRefreshHashes: '',
    generation: 0,
    createdAt: at(0),
    lastUsedAt: at(0),
    expiresAt: at(3600),
    revokedAt: null,
    ip: '192.0.2.1',
    userAgent: 'vitest',
    amr: [],
    ...overrides,
  }
}

function apiKey(userId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: randomUUID(),
    userId,
    name: 'pbx',
    keyHash: `kh-${randomUUID()}`,
    keyPrefix: 'abcdefgh',
    permissions: ['read', 'write'],
    expiresAt: null,
    createdAt: at(0),
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  }
}

function signingKey(kid: string, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    algorithm: 'ES256',
    publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: kid, y: kid }),
    privateKey: `-----BEGIN PRIVATE KEY-----\n${kid}\n-----END PRIVATE KEY-----`,
    createdAt: at(0),
    activatesAt: at(0),
    expiresAt: null,
    ...overrides,
  }
}

function event(
  type: AuditEventType,
  userId: string | null = null,
  overrides: Partial<AuditEventInput> = {},
): AuditEventInput {
  return {
    id: randomUUID(),
    at: at(0),
    type,
    actor: { type: 'system', id: null },
    userId,
    ip: null,
    userAgent: null,
    requestId: null,
    details: {},
    ...overrides,
  }
}

async function conflictOf(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(isUsersError(error, 'CONFLICT'), String(error)).toBe(true)
  return (error as UsersError).details
}

const CI = process.env.CI === 'true'
const pgUnavailable = await postgresUnavailableReason()

const targets: { target: Target; skip?: string }[] = [
  { target: sqliteMemory() },
  { target: sqliteFile() },
  pgUnavailable === undefined || CI
    ? { target: postgres() }
    : { target: postgres(), skip: pgUnavailable },
]

if (pgUnavailable !== undefined && CI) {
  describe('PostgreSQL', () => {
    it('is reachable (CI=true requires the PostgreSQL leg)', () => {
      throw new Error(pgUnavailable)
    })
  })
}

for (const { target, skip } of targets) {
  if (target.name === 'PostgreSQL' && pgUnavailable !== undefined && CI) continue
  const suite = skip === undefined ? describe : describe.skip
  suite(skip === undefined ? target.name : `${target.name} (skipped: ${skip})`, () => {
    let db: Opened
    let store: Store

    beforeEach(async () => {
      db = await target.open()
      store = db.store
    })
    afterEach(async () => {
      await db.cleanup()
    })
    afterAll(async () => {
      await target.dispose?.()
    })

    describe('migrations', () => {
      it('are recorded and idempotent', async () => {
        expect(await store.migrate()).toEqual({ applied: [], alreadyApplied: ALL_MIGRATIONS })
        await store.ping()
      })

      it('reopening an existing database keeps the data and recreates nothing', async () => {
        if (db.openAnother === undefined) return
        const alice = user({ username: 'alice' })
        await store.insertUser(alice, [event('user.created', alice.id)])
        await store.close()
        const reopened = db.openAnother()
        expect(await reopened.migrate()).toEqual({ applied: [], alreadyApplied: ALL_MIGRATIONS })
        expect(await reopened.findUserById(alice.id)).toEqual(alice)
        expect((await reopened.auditChainState()).headSeq).toBe(1)
      })

      it('backfills the user counts (all, active) and the role index when migrating a database that already has users', async () => {
        const empty = await target.openEmpty()
        try {
          const before = MIGRATIONS.findIndex((m) => m.name === '0003_user_count')
          expect(before).toBeGreaterThan(0)
          await runMigrations(empty.db, store.dialect, MIGRATIONS.slice(0, before))
          const old = createKyselyStore(empty.db, store.dialect, empty.options)
          await old.insertUsers(
            Array.from({ length: 7 }, (_, i) =>
              user({
                username: `old${i}`,
                createdAt: at(i),
                active: i % 3 !== 0,
                roles: i % 2 === 0 ? ['user', 'admin'] : ['user'],
              }),
            ),
            [],
          )
          await old.migrate()
          expect(await old.countUsers()).toBe(7)
          await old.insertUser(user({ username: 'new' }), [])
          expect((await old.listUsers({ limit: 1, offset: 0 })).total).toBe(8)
          // 0005 backfilled the active count: old0, old3 and old6 are inactive.
          expect((await old.listUsers({ active: true, limit: 1, offset: 0 })).total).toBe(5)
          expect((await old.listUsers({ active: false, limit: 1, offset: 0 })).total).toBe(3)
          // 0006 backfilled the role index: old0, old2, old4 and old6 are admins; old0 and old6
          // are inactive ones.
          const admins = await old.listUsers({ role: 'admin', limit: 10, offset: 0 })
          expect(admins.items.map((u) => u.username)).toEqual(['old6', 'old4', 'old2', 'old0'])
          expect(admins.total).toBe(4)
          expect(
            (await old.listUsers({ role: 'admin', active: false, limit: 1, offset: 0 })).total,
          ).toBe(2)
          expect((await old.listUsers({ role: 'user', limit: 1, offset: 0 })).total).toBe(8)
        } finally {
          await empty.cleanup()
        }
      })

      it('gives sessions that predate 0007 an empty list of former refresh hashes', async () => {
        const empty = await target.openEmpty()
        try {
          const before = MIGRATIONS.findIndex((m) => m.name === '0007_session_former_hashes')
          expect(before).toBeGreaterThan(0)
          await runMigrations(empty.db, store.dialect, MIGRATIONS.slice(0, before))
          const old = createKyselyStore(empty.db, store.dialect, empty.options)
          const owner = user()
          await old.insertUser(owner, [])
          const s = session(owner.id, {
            previousRefreshHash: 'h-previous',
            rotatedAt: at(1),
            sealedRefreshToken: 'sealed',
            generation: 1,
          })
          const { former_refresh_hashes: _, amr: _amr, ...row } = sessionToRow(s)
          // The sessions table as it was before 0007 (and before 0011 added `amr`).
          const before0007 = empty.db as unknown as Kysely<{
            sessions: Omit<SessionsTable, 'former_refresh_hashes' | 'amr'>
          }>
          await before0007.insertInto('sessions').values(row).execute()
          await old.migrate()
          expect(await old.findSession(s.id)).toEqual({ ...s, formerRefreshHashes: '' })
          expect((await old.findSessionWithUser(s.id))?.session).toEqual({
            ...s,
            formerRefreshHashes: '',
          })
        } finally {
          await empty.cleanup()
        }
      })

      if (target.name === 'PostgreSQL') {
        it('run once when two instances migrate the same empty database at once', async () => {
          const database = await createTempPostgresDatabase()
          const a = createKyselyStore(
            createPostgresKysely(database.url, { poolSize: 2 }),
            'postgres',
          )
          const b = createKyselyStore(
            createPostgresKysely(database.url, { poolSize: 2 }),
            'postgres',
          )
          try {
            const results = await Promise.all([a.migrate(), b.migrate()])
            expect(results.flatMap((r) => r.applied)).toEqual(ALL_MIGRATIONS)
            expect(results.flatMap((r) => r.alreadyApplied)).toEqual(ALL_MIGRATIONS)
          } finally {
            await a.close()
            await b.close()
            await database.drop()
          }
        })
      }
    })

    if (target.name === 'PostgreSQL') {
      it('survives the server dropping its connections (pool errors never crash)', async () => {
        await Promise.all([store.ping(), store.countUsers(), store.listSigningKeys()])
        await db.terminateConnections?.()
        // Idle clients die and are evicted; the first call may still meet one, later calls
        // open fresh connections.
        const first = await store.ping().then(
          () => undefined,
          (e: unknown) => e,
        )
        if (first !== undefined) expect(isUsersError(first, 'UNAVAILABLE')).toBe(true)
        await new Promise((resolve) => setTimeout(resolve, 50))
        await store.ping()
        expect(await store.countUsers()).toBe(0)
      })
    }

    describe('users', () => {
      it('round-trips a user and finds it by id and by any-case username', async () => {
        const alice = user({
          username: 'Alice',
          displayName: 'Alice A.',
          roles: ['admin', 'user'],
          lastLogin: at(5),
        })
        await store.insertUser(alice, [])
        expect(await store.findUserById(alice.id)).toEqual(alice)
        expect(await store.findUserByUsername('aLiCe')).toEqual(alice)
        expect(await store.findUserById(randomUUID())).toBeUndefined()
        expect(await store.countUsers()).toBe(1)
      })

      it('writes issued together each get their own outcome: a failing one takes no other with it', async () => {
        // On SQLite these share one commit (group commit, each in its own savepoint).
        await store.insertUser(user({ username: 'taken' }), [])
        // Each outcome is observed from the start: on PostgreSQL the clash can fail while the
        // first write is still in flight, and must not count as an unhandled rejection.
        const [first, clash, second] = [
          store.insertUser(user({ username: 'first' }), [event('user.created')]),
          conflictOf(
            store.insertUser(user({ username: 'taken', email: null }), [event('user.created')]),
          ),
          store.insertUser(user({ username: 'second' }), [event('user.created')]),
        ]
        await first
        expect(await clash).toEqual({ field: 'username' })
        await second
        expect(await store.findUserByUsername('first')).toBeDefined()
        expect(await store.findUserByUsername('second')).toBeDefined()
        expect(await store.countUsers()).toBe(3)
        // The refused write left no audit row: the chain holds exactly the two that committed.
        expect((await store.auditChainState()).headSeq).toBe(2)
      })

      it('refuses a username or email taken in another case with CONFLICT naming the field', async () => {
        await store.insertUser(user({ username: 'Alice', email: 'Alice@Example.com' }), [])
        expect(
          await conflictOf(store.insertUser(user({ username: 'alice', email: null }), [])),
        ).toEqual({
          field: 'username',
        })
        expect(
          await conflictOf(
            store.insertUser(user({ username: 'bob', email: 'alice@EXAMPLE.com' }), []),
          ),
        ).toEqual({ field: 'email' })
        // Users without email do not collide with each other.
        await store.insertUser(user({ username: 'carol', email: null }), [])
        await store.insertUser(user({ username: 'dave', email: null }), [])
        expect(await store.countUsers()).toBe(3)
      })

      it('a failed insert writes no audit event', async () => {
        await store.insertUser(user({ username: 'alice' }), [event('user.created')])
        await conflictOf(store.insertUser(user({ username: 'ALICE' }), [event('user.created')]))
        expect((await store.auditChainState()).headSeq).toBe(1)
      })

      it('lists newest first with search, active and role filters, paging and total', async () => {
        const rows = [
          user({ username: 'alice', displayName: 'Alice Anderson', createdAt: at(1) }),
          user({ username: 'bob', roles: ['admin'], createdAt: at(2) }),
          user({ username: 'carol_x', email: 'carol@corp.test', createdAt: at(3), active: false }),
          user({ username: 'caroline', roles: ['admin', 'user'], createdAt: at(4) }),
          user({ username: 'dave', roles: ['administrator'], createdAt: at(5) }),
        ]
        for (const row of rows) await store.insertUser(row, [])
        const names = async (q: Parameters<Store['listUsers']>[0]) => {
          const page = await store.listUsers(q)
          return { names: page.items.map((u) => u.username), total: page.total }
        }
        expect(await names({ limit: 2, offset: 0 })).toEqual({
          names: ['dave', 'caroline'],
          total: 5,
        })
        expect(await names({ limit: 2, offset: 4 })).toEqual({ names: ['alice'], total: 5 })
        expect(await names({ search: 'CAROL', limit: 10, offset: 0 })).toEqual({
          names: ['caroline', 'carol_x'],
          total: 2,
        })
        // LIKE wildcards in the search are literal: `_` matches only an underscore.
        expect(await names({ search: 'l_x', limit: 10, offset: 0 })).toEqual({
          names: ['carol_x'],
          total: 1,
        })
        expect(await names({ search: 'corp.TEST', limit: 10, offset: 0 })).toEqual({
          names: ['carol_x'],
          total: 1,
        })
        expect(await names({ search: 'anderson', limit: 10, offset: 0 })).toEqual({
          names: ['alice'],
          total: 1,
        })
        expect(await names({ active: false, limit: 10, offset: 0 })).toEqual({
          names: ['carol_x'],
          total: 1,
        })
        // `admin` matches the whole role, not `administrator`.
        expect(await names({ role: 'admin', limit: 10, offset: 0 })).toEqual({
          names: ['caroline', 'bob'],
          total: 2,
        })
        expect(
          await names({ role: 'admin', active: true, search: 'bo', limit: 1, offset: 0 }),
        ).toEqual({ names: ['bob'], total: 1 })
      })

      it('filters by role from the role index, kept exact through every write path, under both plans', async () => {
        const empty = await target.openEmpty()
        try {
          // One database, two stores: the default plan, and one that walks users for any role.
          const members = createKyselyStore(empty.db, store.dialect, empty.options)
          const walking = createKyselyStore(empty.db, store.dialect, {
            ...empty.options,
            rareRoleLimit: 1,
          })
          await members.migrate()
          const roles = ['admin', 'user', 'ops', 'administrator', 'a%b', 'x"y', 'nobody']
          type Filter = Omit<Parameters<Store['listUsers']>[0], 'limit' | 'offset'>
          // Both stores list exactly `truth` (newest first) with its total, whole and paged.
          const expectListed = async (filter: Filter, truth: UserRecord[]) => {
            const label = JSON.stringify(filter)
            const names = truth.map((u) => u.username)
            for (const s of [members, walking]) {
              const all = await s.listUsers({ ...filter, limit: 1000, offset: 0 })
              expect(
                all.items.map((u) => u.username),
                label,
              ).toEqual(names)
              expect(all.total, label).toBe(truth.length)
              const page = await s.listUsers({ ...filter, limit: 2, offset: 1 })
              expect(
                page.items.map((u) => u.username),
                label,
              ).toEqual(names.slice(1, 3))
            }
          }
          const check = async () => {
            const everyone = (await members.listUsers({ limit: 1000, offset: 0 })).items
            for (const role of roles) {
              for (const active of [undefined, true, false]) {
                await expectListed(
                  active === undefined ? { role } : { role, active },
                  everyone.filter(
                    (u) => u.roles.includes(role) && (active === undefined || u.active === active),
                  ),
                )
              }
              // With a search (trigram-narrowed from 3 characters on SQLite) beside the role.
              for (const search of ['bulk1', 'ROO', 'k2', 'b']) {
                const needle = search.toLowerCase()
                await expectListed(
                  { role, search },
                  everyone.filter(
                    (u) =>
                      u.roles.includes(role) &&
                      [u.username, u.email ?? ''].some((f) => f.includes(needle)),
                  ),
                )
              }
            }
          }
          const root = user({ username: 'root', roles: ['admin'], createdAt: at(1) })
          await members.insertUser(root, [])
          await members.insertUser(
            user({ username: 'dup', roles: ['ops', 'ops', 'a%b'], createdAt: at(2) }),
            [],
          )
          await members.insertUser(
            user({ username: 'adm2', roles: ['administrator', 'x"y'], createdAt: at(3) }),
            [],
          )
          await members.insertUser(user({ username: 'none', roles: [], createdAt: at(3) }), [])
          const bulk = Array.from({ length: 30 }, (_, i) =>
            user({
              username: `bulk${i}`,
              roles: i % 3 === 0 ? ['user', 'ops'] : ['user'],
              active: i % 4 !== 0,
              createdAt: at(4 + (i % 5)),
            }),
          )
          // A row skipped as taken adds no roles.
          bulk.push(user({ username: 'ROOT', roles: ['nobody'] }))
          expect((await members.insertUsers(bulk, [])).skipped).toHaveLength(1)
          await check()
          const bulk0 = (await members.findUserByUsername('bulk0')) as UserRecord
          const bulk1 = (await members.findUserByUsername('bulk1')) as UserRecord
          await members.updateUser(bulk0.id, { roles: ['admin'], updatedAt: at(9) }, {}, [])
          await members.updateUser(bulk1.id, { active: false, updatedAt: at(9) }, {}, [])
          await members.updateUser(bulk1.id, { displayName: 'B', updatedAt: at(10) }, {}, [])
          await check()
          // A refused demotion and a refused delete roll their role rows back with them.
          const guard = { keepAnActiveAdmin: true }
          await members.updateUser(bulk0.id, { active: false, updatedAt: at(11) }, {}, [])
          await conflictOf(
            members.updateUser(root.id, { roles: ['user'], updatedAt: at(12) }, guard, []),
          )
          await conflictOf(members.deleteUser(root.id, guard, []))
          await check()
          expect(await members.deleteUser(bulk1.id, {}, [])).toBe(true)
          await members.updateUser(root.id, { roles: ['user', 'ops'], updatedAt: at(13) }, {}, [])
          // With no active admin left, the guard sees none (the role index keeps `active` too).
          await conflictOf(members.updateUser(root.id, { roles: [], updatedAt: at(14) }, guard, []))
          await check()
        } finally {
          await empty.cleanup()
        }
      })

      it('pages newest first without overlap or gaps when many users share a created_at', async () => {
        // Ties on purpose: three instants for 23 users, written one by one and in bulk, with a
        // delete leaving a hole, so only the tiebreak decides the order within an instant.
        const instants = [at(1), at(2), at(3)]
        const singles = Array.from({ length: 8 }, (_, i) =>
          user({ username: `single${i}`, createdAt: instants[i % 3] as Date }),
        )
        for (const row of singles) await store.insertUser(row, [])
        const bulk = Array.from({ length: 16 }, (_, i) =>
          user({ username: `bulk${i}`, createdAt: instants[(i * 7) % 3] as Date }),
        )
        await store.insertUsers(bulk, [])
        const gone = singles[4] as UserRecord
        await store.deleteUser(gone.id, {}, [])
        const everyone = [...singles, ...bulk].filter((u) => u.id !== gone.id)

        const whole = await store.listUsers({ limit: 100, offset: 0 })
        expect(whole.total).toBe(23)
        const ids = whole.items.map((u) => u.id)
        expect(new Set(ids)).toEqual(new Set(everyone.map((u) => u.id)))
        const times = whole.items.map((u) => u.createdAt.getTime())
        expect(times).toEqual([...times].sort((a, b) => b - a))
        // Every page size cuts the same order into disjoint, consecutive pages.
        for (const limit of [1, 2, 3, 5, 22]) {
          const paged: string[] = []
          for (let offset = 0; offset < 30; offset += limit) {
            const page = await store.listUsers({ limit, offset })
            expect(page.total).toBe(23)
            paged.push(...page.items.map((u) => u.id))
          }
          expect(paged).toEqual(ids)
        }
        // Filtered lists walk the same order.
        const bulkOnly = await store.listUsers({ search: 'bulk', limit: 100, offset: 0 })
        expect(bulkOnly.items.map((u) => u.id)).toEqual(
          ids.filter((id) => bulk.some((u) => u.id === id)),
        )
        const pagedBulk: string[] = []
        for (let offset = 0; offset < 16; offset += 3) {
          const page = await store.listUsers({ search: 'bulk', limit: 3, offset })
          pagedBulk.push(...page.items.map((u) => u.id))
        }
        expect(pagedBulk).toEqual(bulkOnly.items.map((u) => u.id))
      })

      it('keeps substring search exact through updates, deletes and bulk inserts', async () => {
        const names = async (search: string) =>
          (await store.listUsers({ search, limit: 10, offset: 0 })).items.map((u) => u.username)
        const erin = user({ username: 'erin', displayName: 'Erin Quartermaine', createdAt: at(1) })
        await store.insertUser(erin, [])
        await store.insertUsers(
          [
            user({ username: 'frank', email: 'frank@quarterly.test', createdAt: at(2) }),
            user({ username: 'greta', displayName: 'Say "quote" %_', createdAt: at(3) }),
          ],
          [],
        )
        expect(await names('quarte')).toEqual(['frank', 'erin'])
        expect(await names('"quote"')).toEqual(['greta'])
        expect(await names('" %_')).toEqual(['greta'])
        await store.updateUser(erin.id, { displayName: 'Erin Eriksson', updatedAt: at(4) }, {}, [])
        expect(await names('quarte')).toEqual(['frank'])
        expect(await names('ERIKS')).toEqual(['erin'])
        await store.deleteUser(erin.id, {}, [])
        expect(await names('eriks')).toEqual([])
        expect(await names('xyz')).toEqual([])
      })

      it('keeps the unfiltered total equal to count(*) through every write path', async () => {
        let expected = 0
        const check = async () => {
          expect(await db.countUserRows()).toBe(expected)
          expect(await store.countUsers()).toBe(expected)
          expect((await store.listUsers({ limit: 1, offset: 0 })).total).toBe(expected)
          expect((await store.listUsers({ search: '', limit: 1, offset: 0 })).total).toBe(expected)
        }
        await check()
        const root = user({ username: 'root', roles: ['admin'] })
        expect(await store.insertFirstUser(root, [])).toBe(true)
        expect(await store.insertFirstUser(user(), [])).toBe(false)
        expected = 1
        await check()
        const alice = user({ username: 'alice', email: 'alice@example.com' })
        await store.insertUser(alice, [])
        // A rolled-back insert (conflict) must not count.
        await conflictOf(store.insertUser(user({ username: 'ALICE' }), []))
        expected = 2
        await check()
        // Bulk import across statement chunks, with rows skipped as taken (ON CONFLICT DO NOTHING).
        const batch = Array.from({ length: 1100 }, (_, i) => user({ username: `bulk${i}` }))
        batch.push(user({ username: 'alice' }), user({ username: 'x', email: 'ALICE@example.com' }))
        batch.push(user({ username: 'BULK3' }))
        expect((await store.insertUsers(batch, [])).skipped).toHaveLength(3)
        expected = 1102
        await check()
        expect((await store.insertUsers(batch.slice(0, 600), [])).inserted).toEqual([])
        await check()
        // Delete cascades to sessions and keys; the user count drops by exactly one.
        await store.recordLogin(session(alice.id), { lastLogin: at(1), updatedAt: at(1) }, [])
        await store.insertApiKey(apiKey(alice.id), [])
        expect(await store.deleteUser(alice.id, {}, [])).toBe(true)
        expect(await store.deleteUser(alice.id, {}, [])).toBe(false)
        expected = 1101
        await check()
        // A delete refused by the last-admin guard rolls back, counter included.
        await conflictOf(store.deleteUser(root.id, { keepAnActiveAdmin: true }, []))
        await check()
        // The active and inactive totals (kept by the same triggers) match real counts through
        // deactivation, reactivation, updates that leave `active` alone, inserts and deletes.
        const checkActive = async () => {
          const active = await store.listUsers({ active: true, limit: 1, offset: 0 })
          const inactive = await store.listUsers({ active: false, limit: 1, offset: 0 })
          expect(active.total).toBe(await db.countUserRows(true))
          expect(inactive.total).toBe(await db.countUserRows(false))
          expect(active.total + inactive.total).toBe(expected)
          return inactive.total
        }
        expect(await checkActive()).toBe(0)
        await store.updateUser(root.id, { active: false, updatedAt: at(2) }, {}, [])
        expect(await checkActive()).toBe(1)
        await store.updateUser(root.id, { active: false, updatedAt: at(3) }, {}, [])
        await store.updateUser(root.id, { displayName: 'Root', updatedAt: at(4) }, {}, [])
        expect(await checkActive()).toBe(1)
        const dormant = Array.from({ length: 3 }, (_, i) =>
          user({ username: `dormant${i}`, active: false }),
        )
        await store.insertUsers(dormant, [])
        await store.insertUser(user({ username: 'late', active: false }), [])
        expected += 4
        expect(await checkActive()).toBe(5)
        await store.updateUser(dormant[0]?.id as string, { active: true, updatedAt: at(5) }, {}, [])
        expect(await store.deleteUser(dormant[1]?.id as string, {}, [])).toBe(true)
        expected -= 1
        expect(await checkActive()).toBe(3)
        await check()
      })

      it('updates fields, clears email with null, and returns undefined for a missing user', async () => {
        const alice = user({ username: 'alice', displayName: 'A' })
        await store.insertUser(alice, [])
        const updated = await store.updateUser(
          alice.id,
          { email: null, displayName: 'Alice', roles: ['ops'], updatedAt: at(10) },
          {},
          [event('user.updated', alice.id)],
        )
        expect(updated).toEqual({
          ...alice,
          email: null,
          displayName: 'Alice',
          roles: ['ops'],
          updatedAt: at(10),
        })
        expect(
          await store.updateUser(randomUUID(), { updatedAt: at(10) }, {}, [event('user.updated')]),
        ).toBeUndefined()
        expect((await store.auditChainState()).headSeq).toBe(1)
        await store.insertUser(user({ username: 'bob', email: 'bob@example.com' }), [])
        expect(
          await conflictOf(
            store.updateUser(alice.id, { email: 'BOB@example.com', updatedAt: at(11) }, {}, []),
          ),
        ).toEqual({ field: 'email' })
      })

      it('deactivation with revokeSessionsAt revokes every live session in the same change', async () => {
        const alice = user()
        await store.insertUser(alice, [])
        await store.recordLogin(session(alice.id), { lastLogin: at(1), updatedAt: at(1) }, [])
        await store.recordLogin(session(alice.id), { lastLogin: at(2), updatedAt: at(2) }, [])
        expect(await store.listSessions(alice.id, at(3))).toHaveLength(2)
        await store.updateUser(
          alice.id,
          { active: false, updatedAt: at(3) },
          { revokeSessionsAt: at(3) },
          [],
        )
        expect(await store.listSessions(alice.id, at(4))).toEqual([])
        expect((await store.findUserById(alice.id))?.active).toBe(false)
      })

      it('keeps an active admin: the last one cannot be demoted, deactivated or deleted', async () => {
        const root = user({ username: 'root', roles: ['admin'] })
        await store.insertUser(root, [])
        const guard = { keepAnActiveAdmin: true }
        await conflictOf(
          store.updateUser(root.id, { roles: ['user'], updatedAt: at(1) }, guard, [
            event('user.roles_changed'),
          ]),
        )
        await conflictOf(store.updateUser(root.id, { active: false, updatedAt: at(1) }, guard, []))
        await conflictOf(store.deleteUser(root.id, guard, [event('user.deleted')]))
        // Rolled back: nothing changed, nothing audited.
        expect(await store.findUserById(root.id)).toEqual(root)
        expect((await store.auditChainState()).headSeq).toBe(0)

        const second = user({ username: 'second', roles: ['admin'] })
        await store.insertUser(second, [])
        const demoted = await store.updateUser(root.id, { roles: [], updatedAt: at(2) }, guard, [])
        expect(demoted?.roles).toEqual([])
        await conflictOf(store.deleteUser(second.id, guard, []))
      })

      it('two concurrent demotions of the last two admins: exactly one succeeds', async () => {
        const a = user({ username: 'admin_a', roles: ['admin'] })
        const b = user({ username: 'admin_b', roles: ['admin'] })
        await store.insertUser(a, [])
        await store.insertUser(b, [])
        const other = await db.sibling()
        const results = await Promise.allSettled([
          store.updateUser(
            a.id,
            { roles: ['user'], updatedAt: at(1) },
            { keepAnActiveAdmin: true },
            [],
          ),
          other.updateUser(
            b.id,
            { roles: ['user'], updatedAt: at(1) },
            { keepAnActiveAdmin: true },
            [],
          ),
        ])
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
        expect(await store.listUsers({ role: 'admin', limit: 10, offset: 0 })).toMatchObject({
          total: 1,
        })
      })

      it('deleting a user cascades to sessions and API keys; audit events stay', async () => {
        const alice = user()
        await store.insertUser(alice, [event('user.created', alice.id)])
        const s = session(alice.id)
        const k = apiKey(alice.id)
        await store.recordLogin(s, { lastLogin: at(1), updatedAt: at(1) }, [])
        await store.insertApiKey(k, [])
        expect(await store.deleteUser(alice.id, {}, [event('user.deleted', alice.id)])).toBe(true)
        expect(await store.findUserById(alice.id)).toBeUndefined()
        expect(await store.findSession(s.id)).toBeUndefined()
        expect(await store.findApiKeyById(k.id)).toBeUndefined()
        expect(await store.findApiKeyByHash(k.keyHash)).toBeUndefined()
        expect(await store.deleteUser(alice.id, {}, [])).toBe(false)
        const events = await store.listAuditEvents({ userId: alice.id, limit: 10, offset: 0 })
        expect(events.items.map((e) => e.type)).toEqual(['user.deleted', 'user.created'])
      })

      it('insertFirstUser has exactly one winner among concurrent callers', async () => {
        const other = await db.sibling()
        const results = await Promise.all([
          store.insertFirstUser(user({ username: 'admin' }), [event('user.created')]),
          other.insertFirstUser(user({ username: 'admin2' }), [event('user.created')]),
        ])
        expect(results.filter(Boolean)).toHaveLength(1)
        expect(await store.countUsers()).toBe(1)
        expect((await store.auditChainState()).headSeq).toBe(1)
        expect(await store.insertFirstUser(user(), [])).toBe(false)
      })

      it('insertUsers skips taken usernames and emails, also within the batch, across chunks', async () => {
        await store.insertUser(user({ username: 'Existing', email: 'taken@example.com' }), [])
        const batch = Array.from({ length: 1200 }, (_, i) => user({ username: `bulk${i}` }))
        batch.push(user({ username: 'EXISTING' }))
        batch.push(user({ username: 'fresh', email: 'TAKEN@example.com' }))
        batch.push(user({ username: 'Bulk7' }))
        const result = await store.insertUsers(batch, [event('user.created')])
        expect(result.inserted).toHaveLength(1200)
        expect(result.skipped).toEqual(['EXISTING', 'fresh', 'Bulk7'])
        expect(await store.countUsers()).toBe(1201)
        const b5 = batch[5] as UserRecord
        expect(await store.findUserByUsername('BULK5')).toEqual(b5)
      })
    })

    describe('sessions', () => {
      let alice: UserRecord
      beforeEach(async () => {
        alice = user()
        await store.insertUser(alice, [])
      })

      it('recordLogin stamps last_login, may upgrade the hash and opens the session', async () => {
        const s = session(alice.id)
        await store.recordLogin(
          s,
          { lastLogin: at(1), passwordHash: '$argon2id$new', updatedAt: at(1) },
          [event('user.login.succeeded', alice.id)],
        )
        expect(await store.findSession(s.id)).toEqual(s)
        const after = await store.findUserById(alice.id)
        expect(after?.lastLogin).toEqual(at(1))
        expect(after?.passwordHash).toBe('$argon2id$new')
        expect((await store.auditChainState()).headSeq).toBe(1)
      })

      it('findSessionWithUser reads the session and its owner as findSession and findUserById do', async () => {
        const s = session(alice.id, { formerRefreshHashes: 'ab'.repeat(32) })
        await store.recordLogin(
          s,
          { lastLogin: at(2), passwordHash: alice.passwordHash, updatedAt: at(2) },
          [],
        )
        expect(await store.findSessionWithUser(s.id)).toEqual({
          session: await store.findSession(s.id),
          user: await store.findUserById(alice.id),
        })
        expect(await store.findSessionWithUser(randomUUID())).toBeUndefined()
      })

      it('rotateSession is a compare-and-swap: of two concurrent rotations exactly one wins', async () => {
        const s = session(alice.id)
        await store.recordLogin(s, { lastLogin: at(1), updatedAt: at(1) }, [])
        const rotation = (n: number) => ({
          refreshHash: `next-${n}`,
          previousRefreshHash: s.refreshHash,
          rotatedAt: at(10),
          sealedRefreshToken: `sealed-${n}`,
          formerRefreshHashes: `former-${n}`,
          generation: 1,
          lastUsedAt: at(10),
        })
        const other = await db.sibling()
        const results = await Promise.all([
          store.rotateSession(s.id, s.refreshHash, rotation(1), [event('token.refreshed')]),
          other.rotateSession(s.id, s.refreshHash, rotation(2), [event('token.refreshed')]),
        ])
        expect(results.filter(Boolean)).toHaveLength(1)
        const winner = results[0] ? 1 : 2
        expect(await store.findSession(s.id)).toEqual({
          ...s,
          refreshHash: `next-${winner}`,
          previousRefreshHash: s.refreshHash,
          rotatedAt: at(10),
          sealedRefreshToken: `sealed-${winner}`,
          formerRefreshHashes: `former-${winner}`,
          generation: 1,
          lastUsedAt: at(10),
        })
        expect((await store.auditChainState()).headSeq).toBe(1)
        await store.touchSession(s.id, at(11))
        expect((await store.findSession(s.id))?.lastUsedAt).toEqual(at(11))
      })

      it('rotateSession refuses expired and revoked sessions', async () => {
        const s = session(alice.id, { expiresAt: at(5) })
        await store.recordLogin(s, { updatedAt: at(0) }, [])
        const rotation = {
          refreshHash: 'n',
          previousRefreshHash: s.refreshHash,
          rotatedAt: at(6),
          sealedRefreshToken: 'x',
          formerRefreshHashes: '',
          generation: 1,
          lastUsedAt: at(6),
        }
        expect(await store.rotateSession(s.id, s.refreshHash, rotation, [])).toBe(false)
        const live = session(alice.id)
        await store.recordLogin(live, { updatedAt: at(0) }, [])
        expect(await store.revokeSession(live.id, at(1), [event('session.revoked')])).toBe(true)
        expect(await store.revokeSession(live.id, at(2), [event('session.revoked')])).toBe(false)
        expect(await store.rotateSession(live.id, live.refreshHash, rotation, [])).toBe(false)
        expect((await store.auditChainState()).headSeq).toBe(1)
      })

      it('revokeUserSessions revokes only the live sessions of that user', async () => {
        const bob = user()
        await store.insertUser(bob, [])
        await store.recordLogin(session(alice.id), { updatedAt: at(0) }, [])
        await store.recordLogin(session(alice.id), { updatedAt: at(0) }, [])
        await store.recordLogin(session(alice.id, { expiresAt: at(1) }), { updatedAt: at(0) }, [])
        await store.recordLogin(session(bob.id), { updatedAt: at(0) }, [])
        expect(await store.revokeUserSessions(alice.id, at(2), [event('user.logout')])).toBe(2)
        expect(await store.listSessions(alice.id, at(3))).toEqual([])
        expect(await store.listSessions(bob.id, at(3))).toHaveLength(1)
      })

      it('lists live sessions newest first', async () => {
        const older = session(alice.id, { createdAt: at(1) })
        const newer = session(alice.id, { createdAt: at(2) })
        await store.recordLogin(older, { updatedAt: at(1) }, [])
        await store.recordLogin(newer, { updatedAt: at(2) }, [])
        expect((await store.listSessions(alice.id, at(3))).map((s) => s.id)).toEqual([
          newer.id,
          older.id,
        ])
      })

      it('denies access tokens by jti until pruned after expiry', async () => {
        await store.denyAccessToken('jti-1', at(100), [event('user.logout')])
        await store.denyAccessToken('jti-1', at(100), [])
        expect(await store.isAccessTokenDenied('jti-1')).toBe(true)
        expect(await store.isAccessTokenDenied('jti-2')).toBe(false)
        await store.recordLogin(session(alice.id, { expiresAt: at(50) }), { updatedAt: at(0) }, [])
        expect(await store.pruneExpired(at(60))).toBe(1)
        expect(await store.pruneExpired(at(200))).toBe(1)
        expect(await store.isAccessTokenDenied('jti-1')).toBe(false)
      })
    })

    describe('API keys', () => {
      let alice: UserRecord
      beforeEach(async () => {
        alice = user({ roles: ['admin'] })
        await store.insertUser(alice, [])
      })

      it('a name is unique per owner among keys that are not revoked', async () => {
        const first = apiKey(alice.id, { name: 'pbx' })
        await store.insertApiKey(first, [event('api_key.created', alice.id)])
        expect(await conflictOf(store.insertApiKey(apiKey(alice.id, { name: 'pbx' }), []))).toEqual(
          {
            field: 'name',
          },
        )
        const bob = user()
        await store.insertUser(bob, [])
        await store.insertApiKey(apiKey(bob.id, { name: 'pbx' }), [])
        expect(await store.revokeApiKey(first.id, at(1), [event('api_key.revoked')])).toBe(true)
        expect(await store.revokeApiKey(first.id, at(2), [event('api_key.revoked')])).toBe(false)
        await store.insertApiKey(apiKey(alice.id, { name: 'pbx', createdAt: at(3) }), [])
        expect((await store.listApiKeys(alice.id)).map((k) => k.name)).toEqual(['pbx'])
        expect((await store.findApiKeyById(first.id))?.revokedAt).toEqual(at(1))
        expect((await store.auditChainState()).headSeq).toBe(2)
      })

      it('finds a key by hash together with its owner, and lists newest first', async () => {
        const older = apiKey(alice.id, { name: 'a', createdAt: at(1), expiresAt: at(999) })
        const newer = apiKey(alice.id, { name: 'b', createdAt: at(2), permissions: ['*'] })
        await store.insertApiKey(older, [])
        await store.insertApiKey(newer, [])
        expect(await store.findApiKeyByHash(older.keyHash)).toEqual({ key: older, owner: alice })
        expect(await store.findApiKeyByHash('nope')).toBeUndefined()
        expect(await store.listApiKeys(alice.id)).toEqual([newer, older])
      })

      it('touchApiKey writes only when last_used_at is unset or stale', async () => {
        const k = apiKey(alice.id)
        await store.insertApiKey(k, [])
        await store.touchApiKey(k.id, at(100), at(40))
        expect((await store.findApiKeyById(k.id))?.lastUsedAt).toEqual(at(100))
        await store.touchApiKey(k.id, at(120), at(60))
        expect((await store.findApiKeyById(k.id))?.lastUsedAt).toEqual(at(100))
        await store.touchApiKey(k.id, at(200), at(140))
        expect((await store.findApiKeyById(k.id))?.lastUsedAt).toEqual(at(200))
      })

      it('a key for a user that does not exist is NOT_FOUND', async () => {
        const error = await store.insertApiKey(apiKey(randomUUID()), []).catch((e: unknown) => e)
        expect(isUsersError(error, 'NOT_FOUND')).toBe(true)
      })
    })

    describe('hot lookups (cached on SQLite) see every change at once', () => {
      let alice: UserRecord
      let s: SessionRecord
      let k: ApiKeyRecord
      beforeEach(async () => {
        alice = user()
        s = session(alice.id)
        k = apiKey(alice.id)
        await store.insertUser(alice, [])
        await store.recordLogin(s, { updatedAt: at(0) }, [])
        await store.insertApiKey(k, [])
      })
      /** Reads both lookups twice, so a cache would now answer them. */
      async function warm(reader: Store): Promise<void> {
        for (let i = 0; i < 2; i++) {
          expect((await reader.findSessionWithUser(s.id))?.session.revokedAt).toBeNull()
          expect((await reader.findApiKeyByHash(k.keyHash))?.key.revokedAt).toBeNull()
        }
      }

      it('a revoked session and a revoked key, through this store', async () => {
        await warm(store)
        await store.revokeSession(s.id, at(1), [])
        expect((await store.findSessionWithUser(s.id))?.session.revokedAt).toEqual(at(1))
        await store.revokeApiKey(k.id, at(2), [])
        expect((await store.findApiKeyByHash(k.keyHash))?.key.revokedAt).toEqual(at(2))
      })

      it('a deactivated, then deleted owner; a touched key', async () => {
        await warm(store)
        await store.touchApiKey(k.id, at(3), at(0))
        expect((await store.findApiKeyByHash(k.keyHash))?.key.lastUsedAt).toEqual(at(3))
        await store.updateUser(alice.id, { active: false, updatedAt: at(4) }, {}, [])
        expect((await store.findSessionWithUser(s.id))?.user.active).toBe(false)
        expect((await store.findApiKeyByHash(k.keyHash))?.owner.active).toBe(false)
        await store.deleteUser(alice.id, {}, [])
        expect(await store.findSessionWithUser(s.id)).toBeUndefined()
        expect(await store.findApiKeyByHash(k.keyHash)).toBeUndefined()
      })

      it('changes another instance (or the operator CLI) commits to the same database', async () => {
        if (db.openAnother === undefined) return // one in-memory SQLite has no other connection
        const other = db.openAnother()
        await warm(store)
        await other.revokeApiKey(k.id, at(5), [])
        expect((await store.findApiKeyByHash(k.keyHash))?.key.revokedAt).toEqual(at(5))
        await other.revokeSession(s.id, at(6), [])
        expect((await store.findSessionWithUser(s.id))?.session.revokedAt).toEqual(at(6))
        await other.updateUser(alice.id, { roles: ['auditor'], updatedAt: at(7) }, {}, [])
        expect((await store.findApiKeyByHash(k.keyHash))?.owner.roles).toEqual(['auditor'])
      })

      it('what they return cannot be altered by a caller', async () => {
        await warm(store)
        const found = await store.findApiKeyByHash(k.keyHash)
        expect(() =>
          (found as { key: { permissions: string[] } }).key.permissions.push('*'),
        ).toThrow(TypeError)
        expect((await store.findApiKeyByHash(k.keyHash))?.key.permissions).toEqual(k.permissions)
      })
    })

    describe('multi-factor authentication', () => {
      const totp = (userId: string, overrides: Partial<MfaFactorRecord> = {}): MfaFactorRecord => ({
        id: randomUUID(),
        userId,
        type: 'totp',
        name: null,
        status: 'confirmed',
        totpSecretSealed: 'fs1:d:sealed',
        totpLastStep: 10,
        credentialId: null,
        publicKey: null,
        signCount: null,
        transports: [],
        createdAt: at(0),
        confirmedAt: at(0),
        lastUsedAt: null,
        ...overrides,
      })
      const pendingLogin = (userId: string, tokenHash: string) =>
        store.insertMfaToken({
          tokenHash,
          userId,
          ip: '192.0.2.1',
          createdAt: at(0),
          expiresAt: at(300),
          consumedAt: null,
          webauthnChallenge: null,
        })

      it('completes a login once per token, across instances, and keeps the amr', async () => {
        const owner = user()
        await store.insertUser(owner, [])
        const factor = totp(owner.id)
        await store.insertMfaFactor(factor, [], ['code-a', 'code-b'])
        await pendingLogin(owner.id, 'token-1')
        const other = await db.sibling()
        const sessions = [
          session(owner.id, { amr: ['pwd', 'otp'], createdAt: at(1) }),
          session(owner.id, { amr: ['pwd', 'otp'], createdAt: at(1) }),
        ]
        const outcomes = await Promise.all([
          store.completeMfaLogin(
            'token-1',
            { kind: 'totp', factorId: factor.id, step: 11 },
            sessions[0] as SessionRecord,
            { lastLogin: at(1), updatedAt: at(0) },
            [event('mfa.succeeded', owner.id)],
          ),
          other.completeMfaLogin(
            'token-1',
            { kind: 'recovery_code', userId: owner.id, codeHash: 'code-a' },
            sessions[1] as SessionRecord,
            { lastLogin: at(1), updatedAt: at(0) },
            [event('mfa.succeeded', owner.id)],
          ),
        ])
        expect([...outcomes].sort()).toEqual(['completed', 'token_used'])
        const winner = outcomes.indexOf('completed')
        const opened = sessions[winner] as SessionRecord
        expect((await store.findSessionWithUser(opened.id))?.session.amr).toEqual(['pwd', 'otp'])
        // The loser's one-time use rolled back with it: both codes or the step are still there.
        const codes = await store.listUnusedRecoveryCodes(owner.id)
        expect(codes.length).toBe(winner === 0 ? 2 : 1)
        expect((await store.findMfaToken('token-1'))?.consumedAt).toEqual(at(1))
      })

      it('accepts each TOTP step once and each recovery code once', async () => {
        const owner = user()
        await store.insertUser(owner, [])
        const factor = totp(owner.id)
        await store.insertMfaFactor(factor, [], ['code-a'])
        const complete = (token: string, use: Parameters<Store['completeMfaLogin']>[1]) =>
          store.completeMfaLogin(
            token,
            use,
            session(owner.id, { createdAt: at(1) }),
            {
              updatedAt: at(0),
            },
            [],
          )
        for (const t of ['t1', 't2', 't3', 't4']) await pendingLogin(owner.id, t)
        const step = { kind: 'totp', factorId: factor.id, step: 10 } as const
        expect(await complete('t1', step)).toBe('factor_used')
        expect(await complete('t1', { ...step, step: 11 })).toBe('completed')
        const code = { kind: 'recovery_code', userId: owner.id, codeHash: 'code-a' } as const
        expect(await complete('t2', code)).toBe('completed')
        expect(await complete('t3', code)).toBe('factor_used')
        // An expired token: nothing applies.
        expect(
          await store.completeMfaLogin(
            't4',
            { ...step, step: 12 },
            session(owner.id, { createdAt: at(300) }),
            { updatedAt: at(0) },
            [],
          ),
        ).toBe('token_used')
      })

      it('deletes factors, codes and pending logins with the user', async () => {
        const owner = user()
        await store.insertUser(owner, [])
        await store.insertMfaFactor(totp(owner.id), [], ['code-a'])
        await pendingLogin(owner.id, 'gone')
        await store.insertWebauthnChallenge('challenge', owner.id, at(300))
        await store.deleteUser(owner.id, {}, [])
        expect(await store.listMfaFactors(owner.id)).toEqual([])
        expect(await store.listUnusedRecoveryCodes(owner.id)).toEqual([])
        expect(await store.findMfaToken('gone')).toBeUndefined()
        expect(await store.consumeWebauthnChallenge('challenge', owner.id, at(1))).toBe(false)
      })

      it('uses a WebAuthn challenge once, only for its user and before it expires', async () => {
        const owner = user()
        await store.insertUser(owner, [])
        await store.insertWebauthnChallenge('c1', owner.id, at(300))
        await store.insertWebauthnChallenge('c2', owner.id, at(300))
        expect(await store.consumeWebauthnChallenge('c1', randomUUID(), at(1))).toBe(false)
        expect(await store.consumeWebauthnChallenge('c1', owner.id, at(1))).toBe(true)
        expect(await store.consumeWebauthnChallenge('c1', owner.id, at(1))).toBe(false)
        expect(await store.consumeWebauthnChallenge('c2', owner.id, at(300))).toBe(false)
      })

      it('removing the last factor drops the codes and revokes all sessions but one', async () => {
        const owner = user()
        await store.insertUser(owner, [])
        const factor = totp(owner.id)
        await store.insertMfaFactor(factor, [], ['code-a'])
        const keep = session(owner.id)
        const drop = session(owner.id)
        await store.recordLogin(keep, { updatedAt: at(0) }, [])
        await store.recordLogin(drop, { updatedAt: at(0) }, [])
        expect(
          await store.deleteMfaFactor(
            owner.id,
            randomUUID(),
            { at: at(1), keepSessionId: keep.id },
            [],
          ),
        ).toBeUndefined()
        expect(
          await store.deleteMfaFactor(owner.id, factor.id, { at: at(1), keepSessionId: keep.id }, [
            event('mfa.removed', owner.id),
          ]),
        ).toBe(0)
        expect(await store.listUnusedRecoveryCodes(owner.id)).toEqual([])
        expect((await store.listSessions(owner.id, at(2))).map((x) => x.id)).toEqual([keep.id])
      })
    })

    describe('instance secrets', () => {
      it('keep the first stored value, also when two instances race to store theirs', async () => {
        const other = await db.sibling()
        const at = new Date('2026-01-01T00:00:00Z')
        const [a, b] = await Promise.all([
          store.instanceSecret('k', 'from-a', at),
          other.instanceSecret('k', 'from-b', at),
        ])
        expect(a).toBe(b)
        expect(['from-a', 'from-b']).toContain(a)
        expect(await store.instanceSecret('k', 'later', at)).toBe(a)
        expect(await store.instanceSecret('other', 'own', at)).toBe('own')
      })
    })

    describe('signing keys', () => {
      it('bootstrap has a single winner among concurrent callers', async () => {
        const other = await db.sibling()
        const [a, b] = await Promise.all([
          store.bootstrapSigningKeys([
            signingKey('a-current'),
            signingKey('a-next', { activatesAt: null }),
          ]),
          other.bootstrapSigningKeys([
            signingKey('b-current'),
            signingKey('b-next', { activatesAt: null }),
          ]),
        ])
        expect(a).toEqual(b)
        expect(a).toHaveLength(2)
        expect(await store.listSigningKeys()).toEqual(a)
        expect(await store.bootstrapSigningKeys([signingKey('late')])).toEqual(a)
      })

      it('rotation is a compare-and-swap: one of two concurrent rotations wins and writes', async () => {
        await store.bootstrapSigningKeys([
          signingKey('k1'),
          signingKey('k2', { activatesAt: null, createdAt: at(1) }),
        ])
        const rotation = (newKid: string) => ({
          nextKid: 'k2',
          activatesAt: at(100),
          retiringKid: 'k1',
          retiredExpiresAt: at(1000),
          newNext: signingKey(newKid, { activatesAt: null, createdAt: at(100) }),
        })
        const other = await db.sibling()
        const results = await Promise.all([
          store.rotateSigningKeys(rotation('k3a'), [event('signing_key.rotated')]),
          other.rotateSigningKeys(rotation('k3b'), [event('signing_key.rotated')]),
        ])
        expect(results.filter(Boolean)).toHaveLength(1)
        const keys = await store.listSigningKeys()
        expect(keys).toHaveLength(3)
        const byKid = new Map(keys.map((k) => [k.kid, k]))
        expect(byKid.get('k1')?.expiresAt).toEqual(at(1000))
        expect(byKid.get('k2')?.activatesAt).toEqual(at(100))
        expect(keys.filter((k) => k.activatesAt === null)).toHaveLength(1)
        expect((await store.auditChainState()).headSeq).toBe(1)
        expect(await store.pruneSigningKeys(at(999))).toBe(0)
        expect(await store.pruneSigningKeys(at(1000))).toBe(1)
        expect((await store.listSigningKeys()).map((k) => k.kid)).not.toContain('k1')
      })
    })

    describe('audit chain', () => {
      it('chains every event to the previous one with computeAuditHash', async () => {
        const alice = user()
        await store.insertUser(alice, [
          event('user.created', alice.id, {
            actor: { type: 'user', id: alice.id },
            ip: '198.51.100.7',
            userAgent: 'curl',
            requestId: 'req-1',
            details: { z: 1, a: { when: new Date(T0), list: [1, 'two'] } },
          }),
        ])
        await store.appendAudit([
          event('user.login.failed', null, { at: at(1) }),
          event('user.locked', null, { at: at(2) }),
        ])
        const rows = await store.readAuditChain(0, 100)
        expect(rows.map((r) => r.seq)).toEqual([1, 2, 3])
        let prev = GENESIS_HASH
        for (const row of rows) {
          expect(row.prevHash).toBe(prev)
          expect(computeAuditHash(prev, row.seq, row)).toBe(row.hash)
          prev = row.hash
        }
        expect(rows[0]?.details).toEqual({
          z: 1,
          a: { when: new Date(T0).toISOString(), list: [1, 'two'] },
        })
        expect(await store.auditChainState()).toEqual({
          headSeq: 3,
          headHash: prev,
          anchorSeq: 0,
          anchorHash: GENESIS_HASH,
          // No chain key was handed to this store: the chain stays unsealed.
          headTag: null,
          keyedSeq: null,
          keyedTag: null,
          keyCheck: null,
        })
        expect((await store.readAuditChain(1, 1)).map((r) => r.seq)).toEqual([2])
      })

      it('concurrent writers still produce one unbroken chain', async () => {
        const other = await db.sibling()
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? store : other).appendAudit([event('user.login.failed', null, { at: at(i) })]),
          ),
        )
        const rows = await store.readAuditChain(0, 100)
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
        for (let i = 1; i < rows.length; i++) expect(rows[i]?.prevHash).toBe(rows[i - 1]?.hash)
      })

      it('lists newest first with filters and total', async () => {
        await store.appendAudit([
          event('user.created', 'u1', { at: at(1) }),
          event('user.updated', 'u1', { at: at(2) }),
          event('user.created', 'u2', { at: at(3) }),
        ])
        const page = await store.listAuditEvents({ type: 'user.created', limit: 1, offset: 0 })
        expect(page.total).toBe(2)
        expect(page.items.map((e) => e.userId)).toEqual(['u2'])
        const since = await store.listAuditEvents({
          since: at(2),
          until: at(2),
          limit: 10,
          offset: 0,
        })
        expect(since.items.map((e) => e.type)).toEqual(['user.updated'])
        expect((await store.listAuditEvents({ userId: 'u1', limit: 10, offset: 0 })).total).toBe(2)
      })

      it('pruneAudit deletes old events and moves the anchor to the last one deleted', async () => {
        await store.appendAudit([
          event('user.created', null, { at: at(1) }),
          event('user.updated', null, { at: at(2) }),
          event('user.deleted', null, { at: at(3) }),
        ])
        const before = await store.readAuditChain(0, 10)
        expect(await store.pruneAudit(at(3))).toBe(2)
        expect(await store.pruneAudit(at(3))).toBe(0)
        const state = await store.auditChainState()
        expect(state.anchorSeq).toBe(2)
        expect(state.anchorHash).toBe(before[1]?.hash)
        expect(state.headSeq).toBe(3)
        const rest = await store.readAuditChain(state.anchorSeq, 10)
        expect(rest.map((r) => r.seq)).toEqual([3])
        expect(rest[0]?.prevHash).toBe(state.anchorHash)
        // New events keep chaining from the head.
        await store.appendAudit([event('user.created', null, { at: at(4) })])
        expect((await store.readAuditChain(3, 10))[0]?.prevHash).toBe(rest[0]?.hash)
      })
    })
  })
}

describe('SQLite file shared by several processes', () => {
  it('migrates once, bootstraps keys once and creates one first user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'users-core-procs-'))
    try {
      const url = `sqlite://${join(dir, 'users.db')}`
      const script = join(import.meta.dirname, 'fixtures', 'start-instance.ts')
      const startAt = String(Date.now() + 1000)
      const outputs = await Promise.all(
        ['a', 'b', 'c'].map((name) =>
          promisify(execFile)(process.execPath, ['--import', 'tsx', script, url, startAt, name]),
        ),
      )
      const results = outputs.map(
        (o) =>
          JSON.parse(o.stdout) as {
            migration: { applied: string[]; alreadyApplied: string[] }
            kids: string[]
            firstUser: boolean
          },
      )
      expect(results.flatMap((r) => r.migration.applied)).toEqual(ALL_MIGRATIONS)
      expect(results.filter((r) => r.firstUser)).toHaveLength(1)
      expect(new Set(results.map((r) => JSON.stringify(r.kids))).size).toBe(1)
      expect(results[0]?.kids).toHaveLength(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('PostgreSQL connection failures', () => {
  const stores: Store[] = []
  afterAll(async () => {
    for (const s of stores) await s.close().catch(() => undefined)
  })

  it('surface as UNAVAILABLE with a retry hint, and do not crash the process', async () => {
    const store = createKyselyStore(
      createPostgresKysely('postgres://postgres@127.0.0.1:1/none', { poolSize: 1 }),
      'postgres',
    )
    stores.push(store)
    const error = await store.ping().catch((e: unknown) => e)
    expect(isUsersError(error, 'UNAVAILABLE')).toBe(true)
    expect((error as UsersError).retryAfterSeconds).toBe(1)
    const migrateError = await store.migrate().catch((e: unknown) => e)
    expect(isUsersError(migrateError, 'UNAVAILABLE')).toBe(true)
  })
})
