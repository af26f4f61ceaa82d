import type { UserRecord } from '../domain/records.js'
import type { Clock } from '../lib/clock.js'
import type { Random } from '../lib/random.js'
import type { CreateUserInput } from '../types.js'

/** A new account row; roles default to `["user"]` (SPEC §3). */
export function newUserRecord(
  deps: { clock: Clock; random: Random },
  fields: Pick<CreateUserInput, 'username' | 'email' | 'displayName' | 'roles'>,
  passwordHash: string,
  options: { active?: boolean; createdAt?: Date } = {},
): UserRecord {
  const now = deps.clock.now()
  return {
    id: deps.random.uuid(),
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
