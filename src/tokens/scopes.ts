import type { Config } from '../config/schema.js'

/** The parts of `jwt` config that decide an access token's `scope`. */
export type ScopeConfig = Pick<Config['jwt'], 'base_scopes' | 'role_scopes'>

/**
 * The `scope` claim for a holder of `roles` (SPEC §4.1): the base scopes, then each role's
 * scopes in the order the roles are given, without duplicates, space-separated.
 */
export function computeScope(jwt: ScopeConfig, roles: readonly string[]): string {
  const scopes = new Set<string>(jwt.base_scopes)
  for (const role of roles) {
    // Object.hasOwn: a role may be named `constructor` or `toString` (the role regex allows it).
    if (!Object.hasOwn(jwt.role_scopes, role)) continue
    for (const scope of jwt.role_scopes[role] ?? []) scopes.add(scope)
  }
  return [...scopes].join(' ')
}
