// The state a fuzz run attacks: a real core on a SQLite FILE (so PRAGMA integrity_check means
// something) or a throwaway PostgreSQL database, the HTTP app, fixed users with credentials of
// every kind, and pools of ids and tokens harvested from responses so generated requests hit
// real resources.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import BetterSqlite3 from 'better-sqlite3'
import type { Hono } from 'hono'
import pg from 'pg'
import type { ConfigInput } from '../../../src/config/schema.js'
import { init } from '../../../src/core.js'
import { UsersError } from '../../../src/errors.js'
import { createApp } from '../../../src/http/app.js'
import type { AppEnv } from '../../../src/http/context.js'
import { createLogger } from '../../../src/lib/logger.js'
import type { ApiKeyPermission, MfaChallengeDetails, UsersCore } from '../../../src/types.js'
import { totpAt } from '../../mfa/rfc6238.js'
import { CHEAP_ARGON2 } from '../create-test-core.js'
import { createTempPostgresDatabase } from '../databases.js'

/** The database a fuzz world runs on. */
export type FuzzDatabase = 'sqlite' | 'postgres'

/** A fixed account the fuzz keeps alive between requests. */
interface FixedUser {
  username: string
  password: string
  roles: string[]
  id: string
}

/** The credentials a generated request may carry (resolved to a value at send time). */
export const CREDENTIALS = [
  'admin-token',
  'user-token',
  'other-user-token',
  'admin-key-star',
  'admin-key-no-admin-permission',
  'user-key-read',
  'user-key-read-write',
  'user-key-admin-permission',
  'user-key-jwt',
] as const

/** One of {@link CREDENTIALS}. */
export type CredentialName = (typeof CREDENTIALS)[number]

interface Credential {
  value: string
  mint: () => Promise<string>
}

/** Fuzz config: cheap hashing, a file database, limits high enough not to mask other paths. */
export function fuzzConfig(dbPath: string, overrides: ConfigInput = {}): ConfigInput {
  return {
    database_url: `sqlite://${dbPath}`,
    log_level: 'silent',
    ...overrides,
    password: { ...CHEAP_ARGON2, max_queued_hashes: 1000, ...(overrides.password ?? {}) },
    jwt: { algorithm: 'ES256', ...(overrides.jwt ?? {}) },
    api: { max_body_bytes: 262_144, ...(overrides.api ?? {}) },
    rate_limit: {
      requests_per_minute: 1_000_000,
      login_requests_per_minute: 1_000_000,
      max_failed_logins: 1000,
      lockout_seconds: 1,
      ...(overrides.rate_limit ?? {}),
    },
  }
}

const CAP = 40

function remember(pool: string[], value: string): void {
  if (pool.includes(value)) return
  pool.push(value)
  if (pool.length > CAP) pool.splice(3, 1)
}

/** The world a fuzz run acts on. */
export interface FuzzWorld {
  core: UsersCore
  app: Hono<AppEnv>
  database: FuzzDatabase
  /** Error-level log lines (a 5xx's cause). */
  errorLogs: string[]
  pools: {
    userIds: string[]
    sessionIds: string[]
    apiKeyIds: string[]
    usernames: string[]
    passwords: string[]
    refreshTokens: string[]
    accessTokens: string[]
    apiKeys: string[]
    etags: string[]
    /** Second steps of logins of the world's MFA user, for `POST /auth/mfa/verify`. */
    mfaTokens: string[]
    mfaFactorIds: string[]
  }
  credential(name: CredentialName): string
  /** Puts the fixed users and credentials back after a request changed them. */
  heal(): Promise<void>
  /** Records ids and tokens from a 2xx answer. */
  harvest(body: unknown, sentBody: unknown): void
  /**
   * 'ok' when the database is intact, read through a second connection: PRAGMA
   * integrity_check on SQLite; on PostgreSQL, every table reads and the counts add up.
   */
  integrityCheck(): Promise<string>
  close(): Promise<void>
}

/** Opens a fuzz world in a fresh temporary directory, or a fresh PostgreSQL database. */
export async function createFuzzWorld(
  overrides: ConfigInput = {},
  database: FuzzDatabase = 'sqlite',
): Promise<FuzzWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'users-core-fuzz-'))
  const dbPath = join(dir, 'users.db')
  const postgres = database === 'postgres' ? await createTempPostgresDatabase() : undefined
  const errorLogs: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      errorLogs.push(String(chunk))
      if (errorLogs.length > 20) errorLogs.shift()
      done()
    },
  })
  const logger = createLogger('error', stream)
  const core = await init(
    fuzzConfig(dbPath, postgres ? { database_url: postgres.url, ...overrides } : overrides),
    { logger },
  )
  const app = createApp(core, { logger })

  const fixed: Record<'admin' | 'user' | 'other', FixedUser> = {
    admin: { username: 'fuzz-admin', password: 'Tr0ub4dor-Zephyr-9', roles: ['admin'], id: '' },
    user: { username: 'fuzz-alice', password: 'Quartz-Meadow-71', roles: ['user'], id: '' },
    other: { username: 'fuzz-bob', password: 'Copper-Lantern-38', roles: ['user'], id: '' },
  }
  for (const u of Object.values(fixed)) {
    u.id = (
      await core.createUser({ username: u.username, password: u.password, roles: u.roles })
    ).id
  }

  const pools: FuzzWorld['pools'] = {
    userIds: Object.values(fixed).map((u) => u.id),
    sessionIds: [],
    apiKeyIds: [],
    usernames: Object.values(fixed).map((u) => u.username),
    passwords: Object.values(fixed).map((u) => u.password),
    refreshTokens: [],
    accessTokens: [],
    apiKeys: [],
    etags: [],
    mfaTokens: [],
    mfaFactorIds: [],
  }

  // A user with a confirmed TOTP, outside the fixed credentials: its logins answer MFA_REQUIRED,
  // and the fuzz aims `POST /auth/mfa/verify` at the mfa_tokens they hand out.
  const mfaUser = { username: 'fuzz-mfa', password: 'Velvet-Harbor-53' }
  const mfaUserId = (await core.createUser(mfaUser)).id
  const { secret } = await core.mfa.enrollTotp(mfaUserId)
  const totp = await core.mfa.confirmTotp(mfaUserId, totpAt(secret, new Date()))
  remember(pools.mfaFactorIds, totp.factor.id)
  remember(pools.userIds, mfaUserId)
  remember(pools.usernames, mfaUser.username)
  remember(pools.passwords, mfaUser.password)
  const mintMfaToken = async () => {
    try {
      await core.authenticatePassword(mfaUser.username, mfaUser.password)
    } catch (err) {
      // Anything but the challenge (the fuzz removed the factor, or locked the pair) mints none.
      if (err instanceof UsersError && err.code === 'MFA_REQUIRED') {
        remember(pools.mfaTokens, (err.details as MfaChallengeDetails).mfa_token)
      }
    }
  }
  await mintMfaToken()

  const login = async (u: FixedUser): Promise<string> => {
    let token: Awaited<ReturnType<UsersCore['authenticatePassword']>>
    try {
      token = await core.authenticatePassword(u.username, u.password)
    } catch {
      // The fuzz changed the password (a valid PUT or reset): put it back.
      await core.users.resetPassword(u.id, u.password)
      token = await core.authenticatePassword(u.username, u.password)
    }
    remember(pools.refreshTokens, token.refreshToken)
    remember(pools.accessTokens, token.accessToken)
    const sid = sessionIdOf(token.accessToken)
    if (sid) remember(pools.sessionIds, sid)
    return token.accessToken
  }
  let keyCounter = 0
  const newKey = async (u: FixedUser, permissions: ApiKeyPermission[]): Promise<string> => {
    const { apiKey, key } = await core.apiKeys.create({
      userId: u.id,
      name: `fuzz-key-${keyCounter++}`,
      permissions,
    })
    remember(pools.apiKeyIds, apiKey.id)
    remember(pools.apiKeys, key)
    return key
  }

  const specs: Record<CredentialName, () => Promise<string>> = {
    'admin-token': () => login(fixed.admin),
    'user-token': () => login(fixed.user),
    'other-user-token': () => login(fixed.other),
    'admin-key-star': () => newKey(fixed.admin, ['*']),
    'admin-key-no-admin-permission': () => newKey(fixed.admin, ['read', 'write', 'delete']),
    'user-key-read': () => newKey(fixed.user, ['read']),
    'user-key-read-write': () => newKey(fixed.user, ['read', 'write']),
    'user-key-admin-permission': () => newKey(fixed.user, ['admin', 'read', 'write', 'delete']),
    'user-key-jwt': async () =>
      (await core.apiKeys.exchange(await newKey(fixed.user, ['read', 'write']))).accessToken,
  }
  const credentials = new Map<CredentialName, Credential>()
  for (const name of CREDENTIALS) {
    const mint = specs[name]
    credentials.set(name, { value: await mint(), mint })
  }

  const heal = async () => {
    // Each verify that succeeds spends its token: keep a few unspent ones to aim at.
    if (pools.mfaTokens.length < 3) await mintMfaToken()
    for (const u of Object.values(fixed)) {
      let user = await core.users.get(u.id)
      if (!user) {
        // Deleted by the fuzz: recreate under the same name (or a fresh one if it was taken).
        const taken = await core.users.getByUsername(u.username)
        if (taken) u.username = `${u.username}-${keyCounter++}`
        user = await core.createUser({ username: u.username, password: u.password, roles: u.roles })
        u.id = user.id
        remember(pools.userIds, u.id)
        remember(pools.usernames, u.username)
      }
      const sameRoles =
        JSON.stringify([...user.roles].sort()) === JSON.stringify([...u.roles].sort())
      if (!user.active || !sameRoles) {
        await core.users.update(u.id, { active: true, roles: u.roles })
      }
    }
    for (const credential of credentials.values()) {
      try {
        await core.authenticateBearer(credential.value)
      } catch {
        try {
          credential.value = await credential.mint()
        } catch (err) {
          // Locked out or rate limited (a run with low limits): keep the dead credential, whose
          // requests must still answer a clean 401.
          if (!(err instanceof UsersError) || err.status !== 429) throw err
        }
      }
    }
  }

  const harvest = (body: unknown, sentBody: unknown) => {
    const visit = (value: unknown) => {
      if (Array.isArray(value)) {
        for (const item of value.slice(0, 10)) visit(item)
        return
      }
      if (typeof value !== 'object' || value === null) return
      const v = value as Record<string, unknown>
      if (typeof v.refresh_token === 'string') remember(pools.refreshTokens, v.refresh_token)
      if (typeof v.access_token === 'string') remember(pools.accessTokens, v.access_token)
      if (typeof v.key === 'string') remember(pools.apiKeys, v.key)
      if (typeof v.key_info === 'object' && v.key_info !== null) {
        const id = (v.key_info as Record<string, unknown>).id
        if (typeof id === 'string') remember(pools.apiKeyIds, id)
      }
      if (typeof v.id === 'string' && typeof v.username === 'string') {
        remember(pools.userIds, v.id)
        remember(pools.usernames, v.username)
      }
      if (typeof v.id === 'string' && 'current' in v) remember(pools.sessionIds, v.id)
      if (typeof v.id === 'string' && 'key_prefix' in v) remember(pools.apiKeyIds, v.id)
      if (typeof v.id === 'string' && v.type === 'totp') remember(pools.mfaFactorIds, v.id)
      if (typeof v.id === 'string' && v.type === 'webauthn') remember(pools.mfaFactorIds, v.id)
      if (Array.isArray(v.factors)) visit(v.factors)
      if (typeof v.factor === 'object') visit(v.factor)
      if (typeof v.user === 'object') visit(v.user)
    }
    visit(body)
    if (typeof sentBody === 'object' && sentBody !== null) {
      const password = (sentBody as Record<string, unknown>).password
      if (typeof password === 'string' && password.length < 64) remember(pools.passwords, password)
    }
  }

  return {
    core,
    app,
    database,
    errorLogs,
    pools,
    credential: (name) => (credentials.get(name) as Credential).value,
    heal,
    harvest,
    async integrityCheck() {
      if (postgres) return postgresIntegrity(postgres.url)
      const db = new BetterSqlite3(dbPath, { readonly: true })
      try {
        return String(db.pragma('integrity_check', { simple: true }))
      } finally {
        db.close()
      }
    },
    async close() {
      await core.close()
      rmSync(dir, { recursive: true, force: true })
      await postgres?.drop()
    },
  }
}

/** Every table reads through a fresh connection and the trigger-kept user counts are exact. */
async function postgresIntegrity(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const table of ['users', 'user_roles', 'sessions', 'api_keys', 'audit_events']) {
      await client.query(`select count(*) from ${table}`)
    }
    const { rows } = await client.query<{ total: string; counted: string }>(
      'select (select total from users_count where id = 1) as total, (select count(*) from users) as counted',
    )
    const row = rows[0]
    return row && String(row.total) === String(row.counted)
      ? 'ok'
      : `users_count.total ${row?.total} but ${row?.counted} users`
  } finally {
    await client.end()
  }
}

/** The `sid` claim of a JWT, read without verifying (only to find session ids to aim at). */
export function sessionIdOf(token: string): string | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      sid?: unknown
    }
    return typeof claims.sid === 'string' ? claims.sid : undefined
  } catch {
    return undefined
  }
}
