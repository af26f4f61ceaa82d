import { z } from 'zod'
import { isAdminPrincipal } from '../api-keys/permissions.js'
import type { CoreDeps } from '../core-deps.js'
import type { AuditEventInput, UserRecord } from '../domain/records.js'
import type { UserCursor, UserPatch } from '../domain/store.js'
import { UsersError } from '../errors.js'
import { BASE62 } from '../lib/random.js'
import { checkHashCost, hashCostBound } from '../passwords/hash-cost.js'
import {
  assertPasswordPolicy,
  checkPasswordPolicy,
  normalizePassword,
} from '../passwords/policy.js'
import type {
  CreateUserInput,
  ExportedUser,
  ImportResult,
  ImportUserInput,
  Page,
  PasswordChangeOptions,
  RequestContext,
  UpdateUserInput,
  User,
  UserFilter,
} from '../types.js'
import { toUser } from './user-mapper.js'
import {
  displayNameSchema,
  emailSchema,
  rolesSchema,
  usernameSchema,
  validateNewUser,
  validateUserUpdate,
} from './validation.js'

const rfc3339 = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 timestamp' })

/**
 * One import line: the API's account field rules and types, nothing else. The `id`,
 * `updated_at` and `last_login` that export writes are accepted so its files import back whole.
 */
const importLineSchema = z.strictObject({
  username: usernameSchema,
  password_hash: z.string({ error: 'must be a string' }),
  email: emailSchema.nullable().optional(),
  display_name: displayNameSchema.nullable().optional(),
  roles: rolesSchema.optional(),
  active: z.boolean({ error: 'must be true or false' }).optional(),
  created_at: rfc3339.optional(),
  id: z.uuid().optional(),
  updated_at: rfc3339.optional(),
  last_login: rfc3339.nullable().optional(),
})
const DEFAULT_LIMIT = 50
/** Users read per page by the export walk. */
const EXPORT_PAGE_SIZE = 500
const MAX_LIMIT = 1000

/** User accounts: create, read, update, delete, passwords, import and export (SPEC §3). */
export function createUserService(deps: CoreDeps) {
  const { store, hasher, clock, random, config, lockout } = deps

  async function mustGet(id: string): Promise<UserRecord> {
    const user = await store.findUserById(id)
    if (!user) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    return user
  }

  /** A new account row; roles default to `["user"]` (SPEC §3). */
  function newUserRecord(
    fields: Pick<CreateUserInput, 'username' | 'email' | 'displayName' | 'roles'>,
    passwordHash: string,
    options: { active?: boolean; createdAt?: Date } = {},
  ): UserRecord {
    const now = clock.now()
    return {
      id: random.uuid(),
      username: fields.username,
      email: fields.email ?? null,
      displayName: fields.displayName ?? null,
      roles: fields.roles ?? ['user'],
      active: options.active ?? true,
      passwordHash,
      createdAt: options.createdAt ?? now,
      updatedAt: now,
      lastLogin: null,
    }
  }

  function isActiveAdmin(user: UserRecord): boolean {
    return user.active && user.roles.includes('admin')
  }

  async function createUser(input: CreateUserInput, ctx?: RequestContext): Promise<User> {
    const valid = validateNewUser(input)
    // Policy and availability are checked before the expensive hash.
    assertPasswordPolicy(input.password, config.password, valid.username)
    if (await store.findUserByUsername(valid.username)) {
      throw new UsersError('CONFLICT', {
        message: 'That username is taken.',
        details: { field: 'username' },
      })
    }
    const record = newUserRecord(valid, await hasher.hash(normalizePassword(input.password)))
    await store.insertUser(record, [
      deps.audit.build('user.created', record.id, ctx, {
        username: record.username,
        roles: record.roles,
      }),
    ])
    return toUser(record)
  }

  async function update(id: string, input: UpdateUserInput, ctx?: RequestContext): Promise<User> {
    const valid = validateUserUpdate(input)
    const current = await mustGet(id)
    const patch: UserPatch = { updatedAt: clock.now() }
    const audit: AuditEventInput[] = []
    const changed: string[] = []
    if (valid.email !== undefined && valid.email !== current.email) {
      patch.email = valid.email
      changed.push('email')
    }
    if (valid.displayName !== undefined && valid.displayName !== current.displayName) {
      patch.displayName = valid.displayName
      changed.push('display_name')
    }
    if (changed.length > 0) {
      audit.push(deps.audit.build('user.updated', id, ctx, { fields: changed }))
    }
    if (valid.roles !== undefined && !sameSet(valid.roles, current.roles)) {
      patch.roles = valid.roles
      audit.push(
        deps.audit.build('user.roles_changed', id, ctx, { from: current.roles, to: valid.roles }),
      )
    }
    let revoke = false
    if (valid.active !== undefined && valid.active !== current.active) {
      patch.active = valid.active
      revoke = !valid.active
      audit.push(deps.audit.build(valid.active ? 'user.activated' : 'user.deactivated', id, ctx))
    }
    if (audit.length === 0) return toUser(current)
    const after = { ...current, ...patch }
    // A 409 tells whether an address is registered: non-admins get a small budget of them.
    const budgetOf =
      patch.email !== undefined && ctx?.actor && !isAdminPrincipal(ctx.actor)
        ? ctx.actor.user.id
        : undefined
    if (budgetOf !== undefined) await deps.emailConflicts.assertAvailable(budgetOf)
    let updated: UserRecord | undefined
    try {
      updated = await store.updateUser(
        id,
        patch,
        {
          ...(revoke ? { revokeSessionsAt: patch.updatedAt } : {}),
          keepAnActiveAdmin: isActiveAdmin(current) && !isActiveAdmin(after),
        },
        audit,
      )
    } catch (error) {
      if (budgetOf !== undefined && error instanceof UsersError && fieldOf(error) === 'email') {
        await deps.emailConflicts.record(budgetOf)
        // Personal data stays out of the trail: the event says a conflict happened, not on what.
        await store.appendAudit([deps.audit.build('user.email_conflict', id, ctx)])
      }
      throw error
    }
    if (!updated) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    return toUser(updated)
  }

  async function setPassword(
    user: UserRecord,
    newPassword: string,
    by: 'self' | 'admin',
    ctx: RequestContext | undefined,
    options: PasswordChangeOptions,
  ): Promise<void> {
    assertPasswordPolicy(newPassword, config.password, user.username)
    const passwordHash = await hasher.hash(normalizePassword(newPassword))
    const now = clock.now()
    const revokeApiKeys = options.revokeApiKeys
      ? {
          at: now,
          audit: (keys: { id: string; name: string }[]) =>
            keys.map((key) =>
              deps.audit.build('api_key.revoked', user.id, ctx, {
                api_key_id: key.id,
                name: key.name,
                reason: 'password_change',
              }),
            ),
        }
      : undefined
    await store.updateUser(
      user.id,
      { passwordHash, updatedAt: now },
      { revokeSessionsAt: now, ...(revokeApiKeys ? { revokeApiKeys } : {}) },
      [deps.audit.build('user.password_changed', user.id, ctx, { by })],
    )
  }

  /** A wrong old password counts against the login lockout of (username, IP) and is audited. */
  async function oldPasswordFailed(
    user: UserRecord,
    reason: 'wrong_old_password' | 'malformed',
    ctx: RequestContext | undefined,
  ): Promise<never> {
    const lock = await lockout.recordFailure(user.username, ctx?.ip)
    const events = [deps.audit.build('user.password_change_failed', user.id, ctx, { reason })]
    if (lock.locked) {
      events.push(
        deps.audit.build('user.locked', user.id, ctx, {
          username: user.username,
          lockout_seconds: lock.retryAfterSeconds,
        }),
      )
    }
    await store.appendAudit(events)
    if (lock.locked) {
      throw new UsersError('ACCOUNT_LOCKED', { retryAfterSeconds: lock.retryAfterSeconds })
    }
    throw new UsersError('INVALID_CREDENTIALS', { message: 'The old password is wrong.' })
  }

  async function list(filter: UserFilter = {}): Promise<Page<User>> {
    const limit = filter.limit ?? DEFAULT_LIMIT
    const offset = filter.offset ?? 0
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new UsersError('VALIDATION_ERROR', {
        message: `limit must be between 1 and ${MAX_LIMIT}`,
        details: { fields: [{ field: 'limit', message: `must be between 1 and ${MAX_LIMIT}` }] },
      })
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw new UsersError('VALIDATION_ERROR', {
        message: 'offset must be a non-negative integer',
        details: { fields: [{ field: 'offset', message: 'must be a non-negative integer' }] },
      })
    }
    const page = await store.listUsers({
      limit,
      offset,
      ...(filter.search ? { search: filter.search } : {}),
      ...(filter.active !== undefined ? { active: filter.active } : {}),
      ...(filter.role ? { role: filter.role } : {}),
    })
    return { items: page.items.map(toUser), total: page.total }
  }

  const importCostBound = hashCostBound(config.password)

  /** A valid import line as the record to insert, or why it fails. */
  function importRecord(row: ImportUserInput): UserRecord | { status: 'failed'; reason: string } {
    const parsed = importLineSchema.safeParse(row)
    if (!parsed.success) return { status: 'failed', reason: importProblems(parsed.error) }
    const valid = parsed.data
    // The same bound refuses such a hash at login: importing it would only make a dead account.
    const cost = checkHashCost(valid.password_hash, importCostBound)
    if (cost.verdict === 'malformed') {
      return { status: 'failed', reason: 'password_hash: not a supported hash' }
    }
    if (cost.verdict === 'over') {
      return { status: 'failed', reason: `password_hash: ${cost.reason}` }
    }
    return newUserRecord(
      {
        username: valid.username,
        email: valid.email ?? null,
        displayName: valid.display_name ?? null,
        ...(valid.roles ? { roles: valid.roles } : {}),
      },
      valid.password_hash,
      {
        active: valid.active ?? true,
        createdAt: valid.created_at ? new Date(valid.created_at) : clock.now(),
      },
    )
  }

  /**
   * One bulk insert for the valid rows. A row whose username or email an earlier row of the
   * batch takes is skipped before it; one the database already holds is skipped by the insert.
   */
  async function importBatch(
    rows: ImportUserInput[],
    ctx?: RequestContext,
  ): Promise<ImportResult[]> {
    const results: ImportResult[] = []
    const pending: { index: number; record: UserRecord }[] = []
    const usernames = new Set<string>()
    const emails = new Set<string>()
    for (const [index, row] of rows.entries()) {
      const record = importRecord(row)
      if ('status' in record) {
        results[index] = record
        continue
      }
      const username = record.username.toLowerCase()
      const email = record.email?.toLowerCase()
      if (usernames.has(username)) results[index] = { status: 'skipped', reason: 'username exists' }
      else if (email !== undefined && emails.has(email)) {
        results[index] = { status: 'skipped', reason: 'email exists' }
      } else {
        usernames.add(username)
        if (email !== undefined) emails.add(email)
        pending.push({ index, record })
      }
    }
    if (pending.length === 0) return results
    const { skipped } = await store.insertUsers(
      pending.map((p) => p.record),
      (inserted) =>
        inserted.map((record) =>
          deps.audit.build('user.created', record.id, ctx, {
            username: record.username,
            source: 'import',
          }),
        ),
    )
    // Usernames are unique within `pending`, so they name the skipped rows.
    const taken = new Set(skipped)
    for (const { index, record } of pending) {
      results[index] = taken.has(record.username)
        ? { status: 'skipped', reason: `${await takenField(record)} exists` }
        : { status: 'imported', id: record.id }
    }
    return results
  }

  /** Which field of a skipped row the database already held. */
  async function takenField(record: UserRecord): Promise<'username' | 'email'> {
    return (await store.findUserByUsername(record.username)) ? 'username' : 'email'
  }

  /** Every user oldest first, read a page at a time after the last one written. */
  async function* exportAll(pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<ExportedUser> {
    let after: UserCursor | undefined
    for (;;) {
      const page = await store.listUsersOldestFirst(after, pageSize)
      for (const u of page) {
        yield {
          id: u.id,
          username: u.username,
          email: u.email,
          display_name: u.displayName,
          roles: u.roles,
          active: u.active,
          password_hash: u.passwordHash,
          created_at: u.createdAt.toISOString(),
          updated_at: u.updatedAt.toISOString(),
          last_login: u.lastLogin?.toISOString() ?? null,
        }
      }
      const last = page.at(-1)
      if (last === undefined || page.length < pageSize) return
      after = { createdAt: last.createdAt, id: last.id }
    }
  }

  async function bootstrapAdmin(): Promise<
    { created: false } | { created: true; username: string; generatedPassword?: string }
  > {
    if ((await store.countUsers()) > 0) return { created: false }
    const username = config.bootstrap.admin_username
    const configured = config.bootstrap.admin_password
    let password = configured
    if (password === undefined) {
      password = generatePassword()
    } else if (checkPasswordPolicy(password, config.password, username).length > 0) {
      deps.logger.warn(
        { rules: checkPasswordPolicy(password, config.password, username) },
        'bootstrap.admin_password does not meet the password policy; change it after first login',
      )
    }
    const record = newUserRecord(
      { username, roles: ['admin'] },
      await hasher.hash(normalizePassword(password)),
    )
    const created = await store.insertFirstUser(record, [
      deps.audit.build('user.created', record.id, undefined, { username, source: 'bootstrap' }),
    ])
    if (!created) return { created: false }
    return configured === undefined
      ? { created: true, username, generatedPassword: password }
      : { created: true, username }
  }

  function generatePassword(): string {
    // 24 base62 characters ≈ 143 bits; retried until it satisfies the configured policy.
    for (;;) {
      const candidate = random.string(Math.max(24, config.password.min_length), BASE62)
      const withSpecial = config.password.require_special ? `${candidate}-` : candidate
      if (
        checkPasswordPolicy(withSpecial, config.password, config.bootstrap.admin_username)
          .length === 0
      ) {
        return withSpecial
      }
    }
  }

  return {
    createUser,
    update,
    list,
    exportAll,
    bootstrapAdmin,
    async get(id: string) {
      const user = await store.findUserById(id)
      return user ? toUser(user) : undefined
    },
    async getByUsername(username: string) {
      const user = await store.findUserByUsername(username)
      return user ? toUser(user) : undefined
    },
    count: () => store.countUsers(),
    async setRoles(id: string, roles: string[], ctx?: RequestContext) {
      const parsed = rolesSchema.safeParse(roles)
      if (!parsed.success) {
        throw new UsersError('VALIDATION_ERROR', {
          message: 'roles are invalid',
          details: {
            fields: [{ field: 'roles', message: parsed.error.issues[0]?.message ?? 'invalid' }],
          },
        })
      }
      return update(id, { roles: parsed.data }, ctx)
    },
    async delete(id: string, ctx?: RequestContext) {
      const current = await mustGet(id)
      const deleted = await store.deleteUser(id, { keepAnActiveAdmin: isActiveAdmin(current) }, [
        deps.audit.build('user.deleted', id, ctx, { username: current.username }),
      ])
      if (!deleted) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    },
    async changePassword(
      id: string,
      oldPassword: string,
      newPassword: string,
      ctx?: RequestContext,
      options: PasswordChangeOptions = {},
    ) {
      // A guess at the old password is a login attempt: same hash budget, lockout and audit.
      hasher.assertCapacity()
      const user = await mustGet(id)
      await lockout.assertNotLocked(user.username, ctx?.ip)
      if (typeof oldPassword !== 'string' || oldPassword.length > 4 * config.password.max_length) {
        return oldPasswordFailed(user, 'malformed', ctx)
      }
      const ok = await hasher.verify(user.passwordHash, normalizePassword(oldPassword))
      if (!ok) return oldPasswordFailed(user, 'wrong_old_password', ctx)
      await lockout.recordSuccess(user.username, ctx?.ip)
      await setPassword(user, newPassword, 'self', ctx, options)
    },
    async resetPassword(
      id: string,
      newPassword: string,
      ctx?: RequestContext,
      options: PasswordChangeOptions = {},
    ) {
      await setPassword(await mustGet(id), newPassword, 'admin', ctx, options)
    },
    importBatch,
  }
}

/** The user service's shape. */
export type UserService = ReturnType<typeof createUserService>

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

/** Every problem of an import line in one reason: `field: message`, unknown fields by name. */
function importProblems(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}`
        : `${issue.path.join('.') || 'line'}: ${issue.message}`,
    )
    .join('; ')
}

function fieldOf(error: UsersError): string {
  const details = error.details as { field?: string } | undefined
  return details?.field ?? 'username'
}
