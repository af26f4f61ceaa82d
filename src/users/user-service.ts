import { isAdminPrincipal } from '../api-keys/permissions.js'
import type { CoreDeps } from '../core-deps.js'
import type { AuditEventInput, UserRecord } from '../domain/records.js'
import type { UserPatch } from '../domain/store.js'
import { UsersError } from '../errors.js'
import { recordCountedFailure } from '../lockout/counted-failure.js'
import { assertPasswordPolicy, normalizePassword } from '../passwords/policy.js'
import type {
  CreateUserInput,
  Page,
  PasswordChangeOptions,
  RequestContext,
  UpdateUserInput,
  User,
  UserFilter,
} from '../types.js'
import { newUserRecord } from './new-user-record.js'
import { toUser } from './user-mapper.js'
import { rolesSchema, validateNewUser, validateUserUpdate } from './validation.js'

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 1000

/** User accounts: create, read, update, delete and passwords (SPEC §3). */
export function createUserService(deps: CoreDeps) {
  const { store, hasher, clock, config, lockout } = deps

  async function mustGet(id: string): Promise<UserRecord> {
    const user = await store.findUserById(id)
    if (!user) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    return user
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
    const record = newUserRecord(deps, valid, await hasher.hash(normalizePassword(input.password)))
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
    const failure = deps.audit.build('user.password_change_failed', user.id, ctx, { reason })
    const lock = await recordCountedFailure(deps, user, failure, ctx)
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

  return {
    createUser,
    update,
    list,
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
  }
}

/** The user service's shape. */
export type UserService = ReturnType<typeof createUserService>

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

function fieldOf(error: UsersError): string {
  const details = error.details as { field?: string } | undefined
  return details?.field ?? 'username'
}
