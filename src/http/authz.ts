// Pure authorization decisions (SPEC §5, §6.2): no I/O, no framework, so they are tested directly.
import { hasPermission as holds, isAdminPrincipal } from '../api-keys/permissions.js'
import type { ApiKeyPermission, Principal } from '../types.js'

/** The permission a request method needs from an API key: `read` GET, `write` POST/PUT, `delete` DELETE. */
export type MethodPermission = 'read' | 'write' | 'delete'

/** The outcome of an authorization check. */
export type Decision =
  | { allowed: true; as: 'self' | 'admin' | 'user' }
  | { allowed: false; reason: string }

/** Maps an HTTP method to the permission it needs. */
export function methodPermission(method: string): MethodPermission {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
      return 'read'
    case 'DELETE':
      return 'delete'
    default:
      return 'write'
  }
}

/** True when the credential carries `permission` (or `*`). */
export function hasPermission(principal: Principal, permission: ApiKeyPermission): boolean {
  return holds(principal.permissions, permission)
}

/** Admin powers need an admin user AND a credential with the `admin` (or `*`) permission. */
export function isAdmin(principal: Principal): boolean {
  return isAdminPrincipal(principal)
}

/** True when the caller is the user `userId`. */
export function isSelf(principal: Principal, userId: string): boolean {
  return principal.user.id === userId
}

/** Any authenticated caller whose credential allows the method. */
export function authorizeAuthenticated(principal: Principal, method: string): Decision {
  const needed = methodPermission(method)
  if (!hasPermission(principal, needed))
    return deny(`the credential lacks the ${needed} permission`)
  return { allowed: true, as: 'user' }
}

/** Admin-only routes: the method's permission, the admin role and the admin permission. */
export function authorizeAdmin(principal: Principal, method: string): Decision {
  const base = authorizeAuthenticated(principal, method)
  if (!base.allowed) return base
  if (!isAdmin(principal)) return deny('admin only')
  return { allowed: true, as: 'admin' }
}

/**
 * Routes about one user: the caller is that user, or an admin. Self wins when both hold, so an
 * admin acting on their own account is checked as self only where that is stricter (see callers).
 */
export function authorizeSelfOrAdmin(
  principal: Principal,
  method: string,
  userId: string,
): Decision {
  const base = authorizeAuthenticated(principal, method)
  if (!base.allowed) return base
  if (isAdmin(principal)) return { allowed: true, as: 'admin' }
  if (isSelf(principal, userId)) return { allowed: true, as: 'self' }
  return deny('only the user themself or an admin may do this')
}

/** Fields of `PUT /users/:id` a non-admin may change on their own account. */
export const SELF_EDITABLE_FIELDS: ReadonlySet<string> = new Set(['email', 'display_name'])

/** The fields of a `PUT /users/:id` body the caller may not change (empty = allowed). */
export function forbiddenUpdateFields(as: 'self' | 'admin', fields: readonly string[]): string[] {
  if (as === 'admin') return []
  return fields.filter((f) => !SELF_EDITABLE_FIELDS.has(f))
}

function deny(reason: string): Decision {
  return { allowed: false, reason }
}
