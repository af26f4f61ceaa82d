import { type Kysely, sql } from 'kysely'
import type { Store } from '../domain/store.js'
import { deepFreeze } from '../lib/freeze.js'
import { createApiKeyStore } from './api-keys.js'
import { createAuditStore } from './audit.js'
import { type AuditWriter, createKyselyAuditWriter } from './audit-writer.js'
import { guard, type Lookups, type StoreContext, type StoreDialect } from './context.js'
import { createInstanceSecretStore } from './instance-secrets.js'
import { createMfaStore } from './mfa.js'
import { runMigrations } from './migrator.js'
import { postgresDialect } from './postgres/dialect.js'
import type { Database, Dialect } from './schema.js'
import { createKyselySessionPaths, createSessionStore, type SessionHotPaths } from './sessions.js'
import { createSigningKeyStore } from './signing-keys.js'
import { createSipCredentialStore } from './sip-credentials.js'
import { createSqliteAuditWriter } from './sqlite/audit-writer.js'
import { sqliteDialect } from './sqlite/dialect.js'
import { createLookupCache } from './sqlite/lookup-cache.js'
import type { SqliteConnection } from './sqlite/open.js'
import type { SqliteReader } from './sqlite/reader.js'
import { createSqliteSessionPaths } from './sqlite/sessions.js'
import { createUserListQuery } from './user-list-query.js'
import { createUserStore } from './users.js'

/** Options of {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /**
   * SQLite: the connection under `db` (`openSqliteKysely`), on which the group commit, the audit
   * chain and the session hot paths run statements prepared once. Required for SQLite.
   */
  connection?: SqliteConnection
  /**
   * The database's change stamp (SQLite: `openSqliteKysely`). With it, the session and API-key
   * lookups every authenticated request makes are answered from memory while it stays put (see
   * `createLookupCache`). PostgreSQL has no such stamp, and several instances share it, so it
   * reads every time.
   */
  changeStamp?: () => number
  /**
   * A role with fewer members than this is listed from the role index, a commoner one by
   * walking users newest first (see `user-list-query.ts`). Default 10,000.
   */
  rareRoleLimit?: number
  /**
   * Where the reads that grow with the data run (user lists and searches, audit queries, their
   * totals): SQLite files get a connection on its own thread (`createSqliteReader`), closed with
   * the store. Without it they run on `db`; PostgreSQL's are not on the event loop anyway.
   */
  reader?: SqliteReader
}

/** The same lookups without a cache (PostgreSQL), frozen alike so every dialect behaves the same. */
const uncached = async <V>(_key: string, load: () => Promise<V | undefined>) =>
  deepFreeze(await load())

/**
 * The {@link Store} over Kysely, for SQLite and PostgreSQL alike, composed of one part per
 * aggregate over a shared context. Every method is atomic (see the dialect's `transaction`);
 * audit events are chained in that same unit; driver errors become `UsersError`s (CONFLICT with
 * the clashing field, UNAVAILABLE when the database cannot be reached).
 */
export function createKyselyStore(
  db: Kysely<Database>,
  dialect: Dialect,
  options: KyselyStoreOptions = {},
): Store {
  const { changeStamp, reader, connection } = options
  const chain: StoreContext['chain'] = { key: undefined }
  const chainKey = () => chain.key
  let ops: StoreDialect
  let appendAudit: AuditWriter
  let sessionPaths: SessionHotPaths
  if (dialect === 'postgres') {
    ops = postgresDialect(db)
    appendAudit = createKyselyAuditWriter(db, ops.lockChainRow, chainKey)
    sessionPaths = createKyselySessionPaths(db)
  } else {
    if (connection === undefined) {
      throw new Error('a SQLite store needs its connection: open it with openSqliteKysely')
    }
    ops = sqliteDialect(db, connection)
    appendAudit = createSqliteAuditWriter(connection, chainKey)
    sessionPaths = createSqliteSessionPaths(connection)
  }
  const ctx: StoreContext = {
    db,
    dialect: ops,
    chain,
    appendAudit,
    readSlow: (queries) =>
      reader !== undefined
        ? reader.read(queries)
        : Promise.all(queries.map(async (q) => (await db.executeQuery(q)).rows)),
    lookups: <V extends object>(): Lookups<V> =>
      changeStamp ? createLookupCache<V>(changeStamp) : uncached,
  }
  return {
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
    ...createUserStore(ctx),
    ...createUserListQuery(ctx, options.rareRoleLimit),
    ...createSessionStore(ctx, sessionPaths),
    ...createApiKeyStore(ctx),
    ...createSigningKeyStore(ctx),
    ...createAuditStore(ctx),
    ...createInstanceSecretStore(ctx),
    ...createSipCredentialStore(ctx),
    ...createMfaStore(ctx),
  }
}
