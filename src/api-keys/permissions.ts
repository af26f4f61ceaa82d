import type { ApiKeyPermission } from '../domain/records.js'
import type { Principal } from '../types.js'

/** Every permission a key can name (SPEC §5). */
export const API_KEY_PERMISSIONS: readonly ApiKeyPermission[] = [
  'read',
  'write',
  'delete',
  'admin',
  'sip',
  '*',
]

const CONCRETE: readonly ApiKeyPermission[] = ['read', 'write', 'delete', 'admin']

/**
 * True when `held` includes `needed`, `*` standing for every permission but `sip`: a registrar's
 * key may ask for digest checks and HA1s, which no other credential should do, so `sip` is only
 * ever held by name (least privilege; a user's own access token never holds it either).
 */
export function hasPermission(
  held: readonly ApiKeyPermission[],
  needed: ApiKeyPermission,
): boolean {
  if (needed === 'sip') return held.includes('sip')
  return held.includes('*') || held.includes(needed)
}

/** Admin powers need an admin user AND a credential with the `admin` (or `*`) permission. */
export function isAdminPrincipal(principal: Principal): boolean {
  return principal.user.roles.includes('admin') && hasPermission(principal.permissions, 'admin')
}

/**
 * What the caller can hand on to a new key: the credential's permissions, without `admin` (and so
 * without `*`) unless the caller has admin powers; `*` only when all four are held; `sip` only
 * by an admin (SPEC §11), whatever their credential holds.
 */
export function grantablePermissions(principal: Principal): Set<ApiKeyPermission> {
  const held = new Set<ApiKeyPermission>()
  for (const p of CONCRETE) if (hasPermission(principal.permissions, p)) held.add(p)
  if (!isAdminPrincipal(principal)) held.delete('admin')
  if (CONCRETE.every((p) => held.has(p))) held.add('*')
  if (isAdminPrincipal(principal)) held.add('sip')
  return held
}

/**
 * SPEC §5 "a key can grant no permission its creator lacks": the requested permissions the
 * creator does not hold (empty = may grant).
 */
export function ungrantable(
  creator: Principal,
  requested: readonly ApiKeyPermission[],
): ApiKeyPermission[] {
  const held = grantablePermissions(creator)
  return requested.filter((p) => !held.has(p))
}

/** True when the permissions allow at least one HTTP method (`read`, `write` or `delete`). */
export function allowsAnyMethod(permissions: readonly ApiKeyPermission[]): boolean {
  return (['read', 'write', 'delete'] as const).some((p) => hasPermission(permissions, p))
}

/**
 * Roles of a key's owner as a token minted from the key (or its introspection) shows them: a
 * service that trusts `roles`/`scope` alone grants `admin` everything, so `admin` is kept only when
 * the key holds the admin permission and may write; `permissions` tells the rest.
 */
export function attenuateRoles(roles: readonly string[], permissions: readonly ApiKeyPermission[]) {
  return hasPermission(permissions, 'admin') && hasPermission(permissions, 'write')
    ? [...roles]
    : roles.filter((r) => r !== 'admin')
}
