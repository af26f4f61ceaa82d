import {
  CompiledQuery,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SqlBool,
  sql,
  type Updateable,
} from 'kysely'
import {
  type AuditChainKey,
  auditKeyCheck,
  createTagWalker,
  GENESIS_HASH,
  sealTag,
} from '../audit/chain.js'
import { UsersError } from '../errors.js'
import { deepFreeze } from '../lib/freeze.js'
import { createAuditWriter } from './audit-writer.js'
import { bulkInsertUsers } from './bulk-insert-users.js'
import { mapDatabaseError } from './db-errors.js'
import { createLookupCache } from './lookup-cache.js'
import { runMigrations } from './migrator.js'
import { prepareQuery, slot } from './prepared.js'
import type { ApiKeyRecord, AuditEventInput, SessionRecord, UserRecord } from './records.js'
import {
  apiKeyToRow,
  rowToApiKey,
  rowToAuditEvent,
  rowToSession,
  rowToSigningKey,
  rowToUser,
  sessionToRow,
  signingKeyToRow,
  toMillis,
  userToRow,
} from './row-mapping.js'
import type { AuditChainTable, AuditEventsTable, Database, Dialect, UsersTable } from './schema.js'
import type { SqliteReader } from './sqlite-reader.js'
import type { AuditQuery, Store, UserPatch, UserQuery } from './store.js'

// Transaction-scoped PostgreSQL advisory locks: each serialises one "exactly one winner" task
// across every instance sharing the database. SQLite needs none: BEGIN IMMEDIATE already
// serialises writers, across processes too.
const FIRST_USER_LOCK = 7_306_114_002
const BOOTSTRAP_KEYS_LOCK = 7_306_114_003
const ADMIN_GUARD_LOCK = 7_306_114_004

const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate')
const COMMIT = CompiledQuery.raw('commit')
const ROLLBACK = CompiledQuery.raw('rollback')
const SAVEPOINT = CompiledQuery.raw('savepoint grouped_write')
const RELEASE = CompiledQuery.raw('release grouped_write')
const ROLLBACK_TO = CompiledQuery.raw('rollback to grouped_write')

const LAST_ADMIN_MESSAGE = 'the last active admin cannot be deleted or demoted'

/** The `n` of a count query's one row. */
function countOf(rows: unknown[] | undefined): number {
  const row = rows?.[0] as { n: number | string } | undefined
  if (row === undefined) throw new Error('a count query returned no row')
  return Number(row.n)
}

/** See `rolePlan` in {@link createKyselyStore}. */
type RolePlan = 'members' | 'walk'

type SessionWithUser = { session: SessionRecord; user: UserRecord }
type ApiKeyWithOwner = { key: ApiKeyRecord; owner: UserRecord }

/** The same lookups without a cache (PostgreSQL), frozen alike so every dialect behaves the same. */
const uncached = async <V>(_key: string, load: () => Promise<V | undefined>) =>
  deepFreeze(await load())

/** Escapes LIKE wildcards so user input matches literally (used with `escape '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** Options of {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /**
   * The database's change stamp (SQLite: `openSqliteKysely`). With it, the session and API-key
   * lookups every authenticated request makes are answered from memory while it stays put (see
   * `createLookupCache`). PostgreSQL has no such stamp, and several instances share it, so it
   * reads every time.
   */
  changeStamp?: () => number
  /**
   * A role with fewer members than this is listed from the role index (its members, then
   * sorted); a commoner role by walking users newest first and checking each against the index,
   * which stops after a page. Either plan alone is slow for the other kind of role (SQLite, 1M
   * users: 0.0 vs 540 ms for a role everyone holds; PostgreSQL, left to its planner, took 90 ms
   * at 200k users where the walk takes 16). Default 10,000.
   */
  rareRoleLimit?: number
  /**
   * Where the reads that grow with the data run (user lists and searches, audit queries, their
   * totals): SQLite files get a connection on its own thread (`createSqliteReader`), closed with
   * the store. Without it they run on `db`; PostgreSQL's are not on the event loop anyway.
   */
  reader?: SqliteReader
}

const DEFAULT_RARE_ROLE_LIMIT = 10_000
/** Rows read per page when pruning walks the keyed tag over what it deletes. */
const PRUNE_BATCH = 1000

/**
 * The {@link Store} over Kysely, for SQLite and PostgreSQL alike. Every method is atomic: one
 * transaction on PostgreSQL; on SQLite one savepoint inside a group-committed BEGIN IMMEDIATE (so
 * read-then-write never hits a busy snapshot); audit events are chained in that same unit; driver errors become `UsersError`s (CONFLICT with
 * the clashing field, UNAVAILABLE when the database cannot be reached).
 */
export function createKyselyStore(
  db: Kysely<Database>,
  dialect: Dialect,
  options: KyselyStoreOptions = {},
): Store {
  const isPg = dialect === 'postgres'
  const bool = isPg ? (b: boolean): number | boolean => b : (b: boolean) => (b ? 1 : 0)
  let chainKey: AuditChainKey | undefined
  const appendAudit = createAuditWriter(db, dialect, () => chainKey)
  const { changeStamp, reader, rareRoleLimit = DEFAULT_RARE_ROLE_LIMIT } = options
  const sessionLookups = changeStamp ? createLookupCache<SessionWithUser>(changeStamp) : uncached
  const apiKeyLookups = changeStamp ? createLookupCache<ApiKeyWithOwner>(changeStamp) : uncached

  async function guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw mapDatabaseError(error) ?? error
    }
  }

  interface PendingWrite {
    work: (trx: Kysely<Database>) => Promise<unknown>
    resolve(value: unknown): void
    reject(error: unknown): void
  }
  let pendingWrites: PendingWrite[] = []

  /**
   * Runs `work` atomically. PostgreSQL: one transaction each. SQLite: group commit — the writes
   * requested in one turn of the event loop share one `BEGIN IMMEDIATE … COMMIT`, each inside its
   * own savepoint, so one that fails is rolled back alone and the others still commit. Each
   * caller is answered only after the commit, exactly as with a transaction of its own, but the
   * pages a batch touches (session, audit rows and indexes, chain head) reach the WAL once per
   * batch instead of once per write (issue 6: ≈38 KB and a dozen write calls per refresh).
   */
  function transaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (isPg) return guard(() => db.transaction().execute(work))
    return new Promise<T>((resolve, reject) => {
      pendingWrites.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (pendingWrites.length === 1) setImmediate(flushWrites)
    })
  }

  async function flushWrites(): Promise<void> {
    const batch = pendingWrites
    pendingWrites = []
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = []
    try {
      await db.connection().execute(async (conn) => {
        await conn.executeQuery(BEGIN_IMMEDIATE)
        try {
          // A write alone needs no savepoint: if it fails, the whole transaction rolls back.
          const [only] = batch
          if (batch.length === 1 && only) {
            outcomes.push({ ok: true, value: await only.work(conn) })
            await conn.executeQuery(COMMIT)
            return
          }
          for (const { work } of batch) {
            await conn.executeQuery(SAVEPOINT)
            try {
              const value = await work(conn)
              await conn.executeQuery(RELEASE)
              outcomes.push({ ok: true, value })
            } catch (error) {
              await conn.executeQuery(ROLLBACK_TO)
              await conn.executeQuery(RELEASE)
              outcomes.push({ ok: false, error })
            }
          }
          await conn.executeQuery(COMMIT)
        } catch (error) {
          await conn.executeQuery(ROLLBACK).catch(() => undefined)
          throw error
        }
      })
    } catch (error) {
      const failure = mapDatabaseError(error) ?? error
      for (const write of batch) write.reject(failure)
      return
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]
      if (outcome?.ok) write.resolve(outcome.value)
      else write.reject(mapDatabaseError(outcome?.error) ?? outcome?.error)
    })
  }

  /** Sets revoked_at once (false when unknown or already revoked), with its audit events. */
  function revokeRow(
    table: 'sessions' | 'api_keys',
    id: string,
    at: Date,
    audit: AuditEventInput[],
  ): Promise<boolean> {
    return transaction(async (trx) => {
      const result = await trx
        .updateTable(table)
        .set({ revoked_at: toMillis(at) })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) === 0) return false
      await appendAudit(trx, audit)
      return true
    })
  }

  async function advisoryLock(trx: Kysely<Database>, key: number): Promise<void> {
    if (isPg) await sql`select pg_advisory_xact_lock(${key})`.execute(trx)
  }

  // The key that orders users after created_at and fetches a listed page. SQLite: the rowid,
  // which its (created_at) index carries instead of the 36-character id (migration 0004).
  const userKey = sql.ref<string | number>(isPg ? 'id' : 'rowid')

  // Hot paths, compiled once.
  const userById = prepareQuery(db.selectFrom('users').selectAll().where('id', '=', slot(0)))
  const userByUsername = prepareQuery(
    db.selectFrom('users').selectAll().where('username_lower', '=', slot(0)),
  )
  const sessionById = prepareQuery(db.selectFrom('sessions').selectAll().where('id', '=', slot(0)))
  const rotate = prepareQuery(
    db
      .updateTable('sessions')
      .set({
        refresh_hash: slot(0),
        previous_refresh_hash: slot(1),
        rotated_at: slot<number>(2),
        sealed_refresh_token: slot(3),
        former_refresh_hashes: slot(4),
        generation: slot<number>(5),
        last_used_at: slot<number>(6),
      })
      .where('id', '=', slot(7))
      .where('refresh_hash', '=', slot(8))
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', slot<number>(9)),
  )
  const deniedJti = prepareQuery(
    db.selectFrom('denied_jtis').select('jti').where('jti', '=', slot(0)),
  )
  const apiKeyWithOwner = prepareQuery(
    db
      .selectFrom('api_keys as k')
      .innerJoin('users as u', 'u.id', 'k.user_id')
      .select([
        'k.id as k_id',
        'k.user_id as k_user_id',
        'k.name as k_name',
        'k.key_hash as k_key_hash',
        'k.key_prefix as k_key_prefix',
        'k.permissions as k_permissions',
        'k.expires_at as k_expires_at',
        'k.created_at as k_created_at',
        'k.last_used_at as k_last_used_at',
        'k.revoked_at as k_revoked_at',
      ])
      .selectAll('u')
      .where('k.key_hash', '=', slot(0)),
  )
  const sessionColumns = [
    'id',
    'user_id',
    'refresh_hash',
    'previous_refresh_hash',
    'rotated_at',
    'sealed_refresh_token',
    'former_refresh_hashes',
    'generation',
    'created_at',
    'last_used_at',
    'expires_at',
    'revoked_at',
    'ip',
    'user_agent',
  ] as const
  // One statement for what every refresh and every bearer request reads: session and owner.
  const sessionWithUser = prepareQuery(
    db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(sessionColumns.map((c) => `s.${c} as s_${c}` as const))
      .selectAll('u')
      .where('s.id', '=', slot(0)),
  )
  const touchKey = prepareQuery(
    db
      .updateTable('api_keys')
      .set({ last_used_at: slot<number>(0) })
      .where('id', '=', slot(1))
      .where((eb) =>
        eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', slot<number>(2))]),
      ),
  )

  function patchToSet(patch: UserPatch): Updateable<UsersTable> {
    const set: Updateable<UsersTable> = { updated_at: toMillis(patch.updatedAt) }
    if (patch.email !== undefined) {
      set.email = patch.email
      set.email_lower = patch.email === null ? null : patch.email.toLowerCase()
    }
    if (patch.displayName !== undefined) set.display_name = patch.displayName
    if (patch.active !== undefined) set.active = bool(patch.active)
    if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles)
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash
    if (patch.lastLogin !== undefined) set.last_login = toMillis(patch.lastLogin)
    return set
  }

  async function revokeLiveSessions(trx: Kysely<Database>, userId: string, at: Date) {
    const ms = toMillis(at)
    const result = await trx
      .updateTable('sessions')
      .set({ revoked_at: ms })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', ms)
      .executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  async function revokeLiveApiKeys(trx: Kysely<Database>, userId: string, at: Date) {
    return trx
      .updateTable('api_keys')
      .set({ revoked_at: toMillis(at) })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning(['id', 'name'])
      .execute()
  }

  async function assertAnActiveAdmin(trx: Kysely<Database>): Promise<void> {
    const admin = await trx
      .selectFrom('user_roles')
      .select('user_id')
      .where('role', '=', 'admin')
      .where('active', '=', bool(true))
      .limit(1)
      .executeTakeFirst()
    if (admin === undefined) throw new UsersError('CONFLICT', { message: LAST_ADMIN_MESSAGE })
  }

  /** The `user_roles` rows of `role` (and of `active`, when given): one range of the key. */
  function roleMembers(role: string, active: boolean | undefined) {
    const rows = db.selectFrom('user_roles').where('role', '=', role)
    return active === undefined ? rows : rows.where('active', '=', bool(active))
  }

  /**
   * How a role filter is applied: from the role's members (`members`), or by checking each user
   * walked newest first (`walk`), after counting up to `rareRoleLimit` members.
   */
  async function rolePlan(query: UserQuery): Promise<RolePlan | undefined> {
    if (query.role === undefined) return undefined
    const probe = roleMembers(query.role, query.active).select('user_id').limit(rareRoleLimit)
    const row = await db
      .selectFrom(probe.as('m'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n) < rareRoleLimit ? 'members' : 'walk'
  }

  function userFilters(query: UserQuery, plan: RolePlan | undefined) {
    return (eb: ExpressionBuilder<Database, 'users'>) => {
      const conditions: Expression<SqlBool>[] = []
      if (query.search !== undefined && query.search !== '') {
        const needle = query.search.toLowerCase()
        const p = `%${escapeLike(needle)}%`
        conditions.push(
          sql<SqlBool>`(username_lower like ${p} escape '\\' or email_lower like ${p} escape '\\' or lower(display_name) like ${p} escape '\\')`,
        )
        // SQLite: the trigram index narrows to candidate rows first (3+ characters); the LIKE
        // above still decides, so results are exactly those of the scan. Not when a rare role's
        // members are fewer than the candidates could be (a common term would list them all).
        // FTS5 reads its query up to a NUL ("unterminated string"); such a needle skips it.
        if (
          dialect === 'sqlite' &&
          [...needle].length >= 3 &&
          plan !== 'members' &&
          !needle.includes('\u0000')
        ) {
          const phrase = `"${needle.replace(/"/g, '""')}"`
          conditions.push(
            sql<SqlBool>`users.rowid in (select rowid from users_search where users_search match ${phrase})`,
          )
        }
      }
      if (query.active !== undefined) conditions.push(eb('active', '=', bool(query.active)))
      const { role } = query
      if (role !== undefined && plan === 'members') {
        const members = roleMembers(role, query.active).select('user_id')
        conditions.push(eb('users.id', 'in', members))
      } else if (role !== undefined) {
        // The user's own key in the index: role, the user's active, the user's id.
        const own = eb
          .selectFrom('user_roles')
          .select('user_roles.role')
          .where('user_roles.role', '=', role)
          .whereRef('user_roles.active', '=', 'users.active')
          .whereRef('user_roles.user_id', '=', 'users.id')
        conditions.push(eb.exists(own))
      }
      return eb.and(conditions)
    }
  }

  /** The users_count row kept by triggers (migrations 0003, 0005): exact, and one row to read. */
  const maintainedCounts = () =>
    db.selectFrom('users_count').where('id', '=', 1).select(['total', 'active'])

  const countAllUsers = async () =>
    Number((await maintainedCounts().executeTakeFirstOrThrow()).total)

  /**
   * The query of a list's total, as one row `n`: from the maintained counts, or the role index
   * alone, when they answer it; else a real count.
   */
  function countMatching(query: UserQuery, where: ReturnType<typeof userFilters>) {
    const searching = query.search !== undefined && query.search !== ''
    if (!searching && query.role === undefined) {
      const n =
        query.active === undefined
          ? sql<number | string>`total`
          : query.active
            ? sql<number | string>`active`
            : sql<number | string>`total - active`
      return maintainedCounts().select(n.as('n'))
    }
    const count = (eb: ExpressionBuilder<Database, 'users' | 'user_roles'>) =>
      eb.fn.countAll<number | string>().as('n')
    if (!searching && query.role !== undefined) {
      return roleMembers(query.role, query.active).select(count)
    }
    return db.selectFrom('users').select(count).where(where)
  }

  /**
   * Reads that grow with the data, each query's rows in order: on the reader's thread when there
   * is one (SQLite files), in one snapshot; else on `db`.
   */
  function readSlow(queries: readonly CompiledQuery[]): Promise<unknown[][]> {
    if (reader !== undefined) return reader.read(queries)
    return Promise.all(queries.map(async (q) => (await db.executeQuery(q)).rows))
  }

  /**
   * When pruning cuts into the keyed part of a sealed chain, the tag at the new anchor: walked
   * over the rows about to go, so verification can resume there without them.
   */
  async function keyedStartAfterPrune(
    trx: Kysely<Database>,
    state: Selectable<AuditChainTable>,
    cut: number,
  ): Promise<{ keyed_seq: number; keyed_tag: string } | Record<string, never>> {
    if (state.head_tag === null || state.keyed_seq === null || cut < Number(state.keyed_seq)) {
      return {}
    }
    if (chainKey === undefined) throw new Error('pruning a keyed audit chain needs the chain key')
    const walker = createTagWalker(chainKey, {
      anchorSeq: Number(state.anchor_seq),
      anchorHash: state.anchor_hash,
      keyedSeq: Number(state.keyed_seq),
      keyedTag: state.keyed_tag,
    })
    let after = Number(state.anchor_seq)
    for (;;) {
      const rows = await trx
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('seq', '>', after)
        .where('seq', '<=', cut)
        .orderBy('seq', 'asc')
        .limit(PRUNE_BATCH)
        .execute()
      for (const row of rows) walker.step(Number(row.seq), row.hash)
      const last = rows.at(-1)
      if (last === undefined) break
      after = Number(last.seq)
    }
    const tag = walker.tag
    if (tag === undefined) throw new Error('the audit chain lost its keyed start; run audit verify')
    return { keyed_seq: cut, keyed_tag: tag }
  }

  function auditFilters(query: AuditQuery) {
    return (eb: ExpressionBuilder<Database, 'audit_events'>) => {
      const conditions: Expression<SqlBool>[] = []
      if (query.userId !== undefined) conditions.push(eb('user_id', '=', query.userId))
      if (query.type !== undefined) conditions.push(eb('type', '=', query.type))
      if (query.since !== undefined) conditions.push(eb('at', '>=', toMillis(query.since)))
      if (query.until !== undefined) conditions.push(eb('at', '<=', toMillis(query.until)))
      return eb.and(conditions)
    }
  }

  const store: Store = {
    dialect,

    migrate: () => guard(() => runMigrations(db, dialect)),

    ping: () =>
      guard(async () => {
        await sql`select 1`.execute(db)
      }),

    close: async () => {
      await db.destroy()
      await reader?.close()
    },

    // users

    insertUser: (user, audit) =>
      transaction(async (trx) => {
        await trx.insertInto('users').values(userToRow(user, bool)).execute()
        await appendAudit(trx, audit)
      }),

    insertFirstUser: (user, audit) =>
      transaction(async (trx) => {
        await advisoryLock(trx, FIRST_USER_LOCK)
        const any = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()
        if (any !== undefined) return false
        await trx.insertInto('users').values(userToRow(user, bool)).execute()
        await appendAudit(trx, audit)
        return true
      }),

    insertUsers: (users, audit) =>
      transaction(async (trx) => {
        const result = await bulkInsertUsers(trx, dialect, users)
        await appendAudit(trx, audit)
        return result
      }),

    findUserById: (id) =>
      guard(async () => {
        const row = (await db.executeQuery(userById([id]))).rows[0]
        return row === undefined ? undefined : rowToUser(row)
      }),

    findUserByUsername: (username) =>
      guard(async () => {
        const row = (await db.executeQuery(userByUsername([username.toLowerCase()]))).rows[0]
        return row === undefined ? undefined : rowToUser(row)
      }),

    listUsers: (query) =>
      guard(async () => {
        const where = userFilters(query, await rolePlan(query))
        // Deferred join: the offset walks only the index, then the page's rows are fetched by
        // key. Ties in created_at are broken by the key, so pages never overlap or skip a row.
        const pageKeys = db
          .selectFrom('users')
          .select(userKey.as('k'))
          .where(where)
          .orderBy('created_at', 'desc')
          .orderBy(userKey, 'desc')
          .limit(query.limit)
          .offset(query.offset)
        const page = db
          .selectFrom('users')
          .selectAll()
          .where(userKey, 'in', pageKeys)
          .orderBy('created_at', 'desc')
          .orderBy(userKey, 'desc')
        const [rows, count] = await readSlow([
          page.compile(),
          countMatching(query, where).compile(),
        ])
        return {
          items: (rows as Selectable<UsersTable>[]).map(rowToUser),
          total: countOf(count),
        }
      }),

    countUsers: () => guard(countAllUsers),

    updateUser: (id, patch, options, audit) =>
      transaction(async (trx) => {
        // Two concurrent demotions must not both see the other admin still standing.
        if (options.keepAnActiveAdmin) await advisoryLock(trx, ADMIN_GUARD_LOCK)
        const row = await trx
          .updateTable('users')
          .set(patchToSet(patch))
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst()
        if (row === undefined) return undefined
        if (options.revokeSessionsAt !== undefined) {
          await revokeLiveSessions(trx, id, options.revokeSessionsAt)
        }
        if (options.keepAnActiveAdmin) await assertAnActiveAdmin(trx)
        const revokedKeys = options.revokeApiKeys
          ? options.revokeApiKeys.audit(await revokeLiveApiKeys(trx, id, options.revokeApiKeys.at))
          : []
        await appendAudit(trx, [...audit, ...revokedKeys])
        return rowToUser(row)
      }),

    deleteUser: (id, options, audit) =>
      transaction(async (trx) => {
        if (options.keepAnActiveAdmin) await advisoryLock(trx, ADMIN_GUARD_LOCK)
        if (options.revokeSessionsAt !== undefined) {
          await revokeLiveSessions(trx, id, options.revokeSessionsAt)
        }
        // Sessions and API keys go with the user (ON DELETE CASCADE); audit rows stay.
        const deleted = await trx
          .deleteFrom('users')
          .where('id', '=', id)
          .returning('id')
          .executeTakeFirst()
        if (deleted === undefined) return false
        if (options.keepAnActiveAdmin) await assertAnActiveAdmin(trx)
        await appendAudit(trx, audit)
        return true
      }),

    // sessions

    recordLogin: (session, userPatch, audit) =>
      transaction(async (trx) => {
        await trx
          .updateTable('users')
          .set(patchToSet(userPatch))
          .where('id', '=', session.userId)
          .execute()
        await trx.insertInto('sessions').values(sessionToRow(session)).execute()
        await appendAudit(trx, audit)
      }),

    findSession: (id) =>
      guard(async () => {
        const row = (await db.executeQuery(sessionById([id]))).rows[0]
        return row === undefined ? undefined : rowToSession(row)
      }),

    findSessionWithUser: (id) =>
      guard(() =>
        sessionLookups(id, async () => {
          const r = (await db.executeQuery(sessionWithUser([id]))).rows[0]
          if (r === undefined) return undefined
          const session = Object.fromEntries(
            sessionColumns.map((c) => [c, r[`s_${c}`]]),
          ) as unknown as Parameters<typeof rowToSession>[0]
          return { session: rowToSession(session), user: rowToUser(r) }
        }),
      ),

    listSessions: (userId, now) =>
      guard(async () => {
        const rows = await db
          .selectFrom('sessions')
          .selectAll()
          .where('user_id', '=', userId)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', toMillis(now))
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(rowToSession)
      }),

    rotateSession: (id, expectedHash, rotation, audit) =>
      transaction(async (trx) => {
        const result = await trx.executeQuery(
          rotate([
            rotation.refreshHash,
            rotation.previousRefreshHash,
            toMillis(rotation.rotatedAt),
            rotation.sealedRefreshToken,
            rotation.formerRefreshHashes,
            rotation.generation,
            toMillis(rotation.lastUsedAt),
            id,
            expectedHash,
            toMillis(rotation.rotatedAt),
          ]),
        )
        if (Number(result.numAffectedRows ?? 0) !== 1) return false
        await appendAudit(trx, audit)
        return true
      }),

    touchSession: (id, at) =>
      guard(async () => {
        await db
          .updateTable('sessions')
          .set({ last_used_at: toMillis(at) })
          .where('id', '=', id)
          .execute()
      }),

    revokeSession: (id, at, audit) => revokeRow('sessions', id, at, audit),

    revokeUserSessions: (userId, at, audit) =>
      transaction(async (trx) => {
        const count = await revokeLiveSessions(trx, userId, at)
        await appendAudit(trx, audit)
        return count
      }),

    denyAccessToken: (jti, expiresAt, audit) =>
      transaction(async (trx) => {
        await trx
          .insertInto('denied_jtis')
          .values({ jti, expires_at: toMillis(expiresAt) })
          .onConflict((oc) => oc.column('jti').doNothing())
          .execute()
        await appendAudit(trx, audit)
      }),

    isAccessTokenDenied: (jti) =>
      guard(async () => (await db.executeQuery(deniedJti([jti]))).rows.length > 0),

    pruneExpired: (now) =>
      transaction(async (trx) => {
        const ms = toMillis(now)
        const sessions = await trx
          .deleteFrom('sessions')
          .where('expires_at', '<=', ms)
          .executeTakeFirst()
        const jtis = await trx
          .deleteFrom('denied_jtis')
          .where('expires_at', '<=', ms)
          .executeTakeFirst()
        return Number(sessions.numDeletedRows) + Number(jtis.numDeletedRows)
      }),

    // API keys

    insertApiKey: (key, audit) =>
      transaction(async (trx) => {
        await trx.insertInto('api_keys').values(apiKeyToRow(key)).execute()
        await appendAudit(trx, audit)
      }),

    findApiKeyByHash: (keyHash) =>
      guard(() =>
        apiKeyLookups(keyHash, async () => {
          const r = (await db.executeQuery(apiKeyWithOwner([keyHash]))).rows[0]
          if (r === undefined) return undefined
          return {
            key: rowToApiKey({
              id: r.k_id,
              user_id: r.k_user_id,
              name: r.k_name,
              key_hash: r.k_key_hash,
              key_prefix: r.k_key_prefix,
              permissions: r.k_permissions,
              expires_at: r.k_expires_at,
              created_at: r.k_created_at,
              last_used_at: r.k_last_used_at,
              revoked_at: r.k_revoked_at,
            }),
            owner: rowToUser(r),
          }
        }),
      ),

    findApiKeyById: (id) =>
      guard(async () => {
        const row = await db
          .selectFrom('api_keys')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
        return row === undefined ? undefined : rowToApiKey(row)
      }),

    listApiKeys: (userId) =>
      guard(async () => {
        const rows = await db
          .selectFrom('api_keys')
          .selectAll()
          .where('user_id', '=', userId)
          .where('revoked_at', 'is', null)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(rowToApiKey)
      }),

    revokeApiKey: (id, at, audit) => revokeRow('api_keys', id, at, audit),

    touchApiKey: (id, at, staleBefore) =>
      guard(async () => {
        await db.executeQuery(touchKey([toMillis(at), id, toMillis(staleBefore)]))
      }),

    // signing keys

    listSigningKeys: () =>
      guard(async () => {
        const rows = await db
          .selectFrom('signing_keys')
          .selectAll()
          .orderBy('created_at', 'asc')
          .orderBy('kid', 'asc')
          .execute()
        return rows.map(rowToSigningKey)
      }),

    bootstrapSigningKeys: (keys) =>
      transaction(async (trx) => {
        await advisoryLock(trx, BOOTSTRAP_KEYS_LOCK)
        const any = await trx.selectFrom('signing_keys').select('kid').limit(1).executeTakeFirst()
        if (any === undefined && keys.length > 0) {
          await trx.insertInto('signing_keys').values(keys.map(signingKeyToRow)).execute()
        }
        const rows = await trx
          .selectFrom('signing_keys')
          .selectAll()
          .orderBy('created_at', 'asc')
          .orderBy('kid', 'asc')
          .execute()
        return rows.map(rowToSigningKey)
      }),

    rotateSigningKeys: (rotation, audit) =>
      transaction(async (trx) => {
        // The CAS: only the caller that flips the next key from unpublished-only to active wins;
        // a concurrent caller blocks on the row, then sees activates_at set and matches nothing.
        const activated = await trx
          .updateTable('signing_keys')
          .set({ activates_at: toMillis(rotation.activatesAt) })
          .where('kid', '=', rotation.nextKid)
          .where('activates_at', 'is', null)
          .executeTakeFirst()
        if (Number(activated.numUpdatedRows) !== 1) return false
        if (rotation.retiringKid !== null) {
          await trx
            .updateTable('signing_keys')
            .set({ expires_at: toMillis(rotation.retiredExpiresAt) })
            .where('kid', '=', rotation.retiringKid)
            .where('expires_at', 'is', null)
            .execute()
        }
        await trx.insertInto('signing_keys').values(signingKeyToRow(rotation.newNext)).execute()
        await appendAudit(trx, audit)
        return true
      }),

    pruneSigningKeys: (now) =>
      guard(async () => {
        const result = await db
          .deleteFrom('signing_keys')
          .where('expires_at', 'is not', null)
          .where('expires_at', '<=', toMillis(now))
          .executeTakeFirst()
        return Number(result.numDeletedRows)
      }),

    // audit

    appendAudit: (events) => transaction((trx) => appendAudit(trx, events)),

    listAuditEvents: (query) =>
      guard(async () => {
        const where = auditFilters(query)
        const [rows, count] = await readSlow([
          db
            .selectFrom('audit_events')
            .selectAll()
            .where(where)
            .orderBy('seq', 'desc')
            .limit(query.limit)
            .offset(query.offset)
            .compile(),
          db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .where(where)
            .compile(),
        ])
        return {
          items: (rows as Selectable<AuditEventsTable>[]).map(rowToAuditEvent),
          total: countOf(count),
        }
      }),

    readAuditChain: (afterSeq, limit) =>
      guard(async () => {
        const rows = await db
          .selectFrom('audit_events')
          .selectAll()
          .where('seq', '>', afterSeq)
          .orderBy('seq', 'asc')
          .limit(limit)
          .execute()
        return rows.map(rowToAuditEvent)
      }),

    auditChainState: () =>
      guard(async () => {
        const row = await db
          .selectFrom('audit_chain')
          .selectAll()
          .where('id', '=', 1)
          .executeTakeFirst()
        if (row === undefined) {
          return {
            headSeq: 0,
            headHash: GENESIS_HASH,
            anchorSeq: 0,
            anchorHash: GENESIS_HASH,
            headTag: null,
            keyedSeq: null,
            keyedTag: null,
            keyCheck: null,
          }
        }
        return {
          headSeq: Number(row.head_seq),
          headHash: row.head_hash,
          anchorSeq: Number(row.anchor_seq),
          anchorHash: row.anchor_hash,
          headTag: row.head_tag,
          keyedSeq: row.keyed_seq === null ? null : Number(row.keyed_seq),
          keyedTag: row.keyed_tag,
          keyCheck: row.key_check,
        }
      }),

    setAuditChainKey: (key) => {
      chainKey = key
    },

    sealAuditChain: () =>
      transaction(async (trx) => {
        if (chainKey === undefined) throw new Error('sealing the audit chain needs a chain key')
        let chain = trx.selectFrom('audit_chain').selectAll().where('id', '=', 1)
        if (isPg) chain = chain.forUpdate()
        const state = await chain.executeTakeFirstOrThrow()
        if (state.head_tag !== null) return false
        const seq = Number(state.head_seq)
        await trx
          .updateTable('audit_chain')
          .set({
            head_tag: sealTag(chainKey, seq, state.head_hash),
            keyed_seq: seq,
            keyed_tag: null,
            key_check: auditKeyCheck(chainKey),
          })
          .where('id', '=', 1)
          .execute()
        return true
      }),

    pruneAudit: (before) =>
      transaction(async (trx) => {
        let chain = trx.selectFrom('audit_chain').selectAll().where('id', '=', 1)
        if (isPg) chain = chain.forUpdate()
        const state = await chain.executeTakeFirstOrThrow()
        // Only a prefix of the chain is ever cut, so what remains still verifies from the
        // anchor even if a clock stepped back and an older `at` sits after a newer one.
        const firstKept = await trx
          .selectFrom('audit_events')
          .select((eb) => eb.fn.min<number | string | null>('seq').as('seq'))
          .where('at', '>=', toMillis(before))
          .executeTakeFirstOrThrow()
        const lastCut = firstKept.seq === null ? Number(state.head_seq) : Number(firstKept.seq) - 1
        if (lastCut <= Number(state.anchor_seq)) return 0
        const anchor = await trx
          .selectFrom('audit_events')
          .select(['seq', 'hash'])
          .where('seq', '<=', lastCut)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst()
        if (anchor === undefined) return 0
        const cut = Number(anchor.seq)
        const keyed = await keyedStartAfterPrune(trx, state, cut)
        const deleted = await trx
          .deleteFrom('audit_events')
          .where('seq', '<=', cut)
          .executeTakeFirst()
        await trx
          .updateTable('audit_chain')
          .set({ anchor_seq: cut, anchor_hash: anchor.hash, ...keyed })
          .where('id', '=', 1)
          .execute()
        return Number(deleted.numDeletedRows)
      }),
  }
  return store
}
