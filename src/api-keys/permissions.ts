import type { ApiKeyPermission } from '../storage/records.js'
import type { Principal } from '../types.js'

/** Every permission a key can name (SPEC §5). */
export const API_KEY_PERMISSIONS: readonly ApiKeyPermission[] = [
  'read',
  'write',
  'delete',
  'admin',
  '*',
]

/** True when `held` includes `needed`, `*` standing for every permission. */
export function hasPermission(
  held: readonly ApiKeyPermission[],
  needed: ApiKeyPermission,
): boolean {
  return held.includes('*') || held.includes(needed)
}

/** What a caller actually holds: a user all but admin unless an admin; a key its own list. */
export function effectivePermissions(principal: Principal): ApiKeyPermission[] {
  const isAdminUser = principal.user.roles.includes('admin')
  const ceiling: ApiKeyPermission[] = isAdminUser
    ? ['read', 'write', 'delete', 'admin', '*']
    : ['read', 'write', 'delete']
  return ceiling
    .filter((p) => p !== '*' && hasPermission(principal.permissions, p))
    .concat(isAdminUser && hasPermission(principal.permissions, '*') ? ['*'] : [])
}

/** True when the principal has admin powers: an admin owner and, for keys, the admin permission. */
export function isAdminPrincipal(principal: Principal): boolean {
  return principal.user.roles.includes('admin') && hasPermission(principal.permissions, 'admin')
}

/** The requested permissions the creator does not hold (empty = may grant). */
export function ungrantable(
  creator: Principal,
  requested: readonly ApiKeyPermission[],
): ApiKeyPermission[] {
  const held = effectivePermissions(creator)
  return requested.filter((p) => (p === '*' ? !held.includes('*') : !hasPermission(held, p)))
}

/** Roles of a key's owner as the key may use them: no `admin` without the admin permission. */
export function attenuateRoles(roles: readonly string[], permissions: readonly ApiKeyPermission[]) {
  return hasPermission(permissions, 'admin') ? [...roles] : roles.filter((r) => r !== 'admin')
}
