import type { UserRecord } from '../domain/records.js'
import { deepFreeze, derivedOfFrozen } from '../lib/freeze.js'
import type { User } from '../types.js'

/**
 * The public view of a stored user: everything but the password hash. A frozen record (shared
 * by the lookup cache while nothing changes) gets one frozen view for as long as it lives, so
 * requests that authenticate as it build nothing.
 */
export const toUser: (record: UserRecord) => User = derivedOfFrozen((record: UserRecord) => {
  const view: User = {
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
  return Object.isFrozen(record) ? deepFreeze(view) : view
})
