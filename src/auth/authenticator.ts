import type { ApiKeyService } from '../api-keys/api-key-service.js'
import { attenuateRoles } from '../api-keys/permissions.js'
import type { CoreDeps } from '../core-deps.js'
import type { UserRecord } from '../domain/records.js'
import { UsersError } from '../errors.js'
import { computeScope } from '../tokens/scopes.js'
import type { IntrospectionResult, Principal } from '../types.js'
import { toUser } from '../users/user-mapper.js'

/**
 * How users-core itself accepts credentials (SPEC §4.4): a valid signature is not enough; the
 * session must be live, the jti not logged out, the user active, and roles are read fresh.
 */
export function createAuthenticator(deps: CoreDeps, apiKeys: ApiKeyService) {
  const { store, keyring, clock, config } = deps
  const unauthorized = () =>
    new UsersError('UNAUTHORIZED', { message: 'Invalid or expired token.' })

  async function authenticateAccessToken(token: string): Promise<Principal> {
    return (await principalOf(token)).principal
  }

  /** The principal of a live access token, with the claims it was verified to carry. */
  async function principalOf(token: string) {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw unauthorized()
    const claims = await keyring.verifyAccessToken(token)
    const now = clock.now()
    let permissions: Principal['permissions'] = ['*']
    let apiKeyInfo: Principal['apiKey']
    let user: UserRecord | undefined
    if (claims.sid) {
      const found = await store.findSessionWithUser(claims.sid)
      if (
        !found ||
        found.session.userId !== claims.sub ||
        found.session.revokedAt !== null ||
        found.session.expiresAt.getTime() <= now.getTime()
      ) {
        throw unauthorized()
      }
      user = found.user
    } else {
      if (await store.isAccessTokenDenied(claims.jti)) throw unauthorized()
      if (claims.api_key_id) {
        // A token minted for an API key lives only as long as the key and keeps its limits.
        const key = await store.findApiKeyById(claims.api_key_id)
        if (
          !key ||
          key.userId !== claims.sub ||
          key.revokedAt !== null ||
          (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime())
        ) {
          throw unauthorized()
        }
        permissions = [...key.permissions]
        apiKeyInfo = apiKeys.toInfo(key)
      }
    }
    user ??= await store.findUserById(claims.sub)
    if (!user?.active) throw unauthorized()
    const principal: Principal = {
      kind: 'access_token',
      user: toUser(user),
      ...(claims.sid ? { sessionId: claims.sid } : {}),
      jti: claims.jti,
      expiresAt: new Date(claims.exp * 1000),
      ...(apiKeyInfo ? { apiKey: apiKeyInfo } : {}),
      permissions,
    }
    return { principal, claims }
  }

  async function authenticateBearer(credential: string): Promise<Principal> {
    return apiKeys.isApiKey(credential)
      ? apiKeys.authenticate(credential)
      : authenticateAccessToken(credential)
  }

  async function introspect(token: string): Promise<IntrospectionResult> {
    if (typeof token !== 'string' || token.length === 0) return { active: false }
    if (apiKeys.isApiKey(token)) {
      const found = await apiKeys.lookup(token)
      if (!found) return { active: false }
      const roles = attenuateRoles(found.owner.roles, found.key.permissions)
      return {
        active: true,
        sub: found.owner.id,
        username: found.owner.username,
        scope: computeScope(config.jwt, roles),
        roles,
        exp: found.key.expiresAt ? Math.floor(found.key.expiresAt.getTime() / 1000) : null,
        iat: Math.floor(found.key.createdAt.getTime() / 1000),
        iss: config.jwt.issuer,
        aud: [...config.jwt.audience],
        jti: null,
        sid: null,
        token_type: 'api_key',
        permissions: [...found.key.permissions],
      }
    }
    let authenticated: Awaited<ReturnType<typeof principalOf>>
    try {
      authenticated = await principalOf(token)
    } catch {
      return { active: false }
    }
    const { principal, claims } = authenticated
    const roles = principal.apiKey
      ? attenuateRoles(principal.user.roles, principal.permissions)
      : principal.user.roles
    return {
      active: true,
      sub: principal.user.id,
      username: principal.user.username,
      scope: computeScope(config.jwt, roles),
      roles,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: Array.isArray(claims.aud) ? claims.aud : [claims.aud],
      jti: claims.jti,
      sid: claims.sid ?? null,
      token_type: 'access_token',
      ...(principal.apiKey ? { permissions: [...principal.permissions] } : {}),
      ...(claims.amr ? { amr: [...claims.amr] } : {}),
      ...(claims.acr ? { acr: claims.acr } : {}),
    }
  }

  return { authenticateAccessToken, authenticateBearer, introspect }
}
