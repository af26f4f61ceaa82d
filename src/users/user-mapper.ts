import type { UserRecord } from '../storage/records.js'
import type { User } from '../types.js'

/** The public view of a stored user: everything but the password hash. */
export function toUser(record: UserRecord): User {
  return {
    id: record.id,
    username: record.username,
    email: record.email,
    displayName: record.displayName,
    roles: [...record.roles],
    active: record.active,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastLogin: record.lastLogin,
  }
}
