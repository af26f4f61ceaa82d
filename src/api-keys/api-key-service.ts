import type { CoreDeps } from '../core-deps.js'
import type { ApiKeyRecord, UserRecord } from '../domain/records.js'
import { UsersError } from '../errors.js'
import { sha256Hex } from '../lib/constant-time.js'
import { BASE62 } from '../lib/random.js'
import { createUseStamp } from '../lib/use-stamp.js'
import { computeScope } from '../tokens/scopes.js'
import type {
  ApiKeyInfo,
  ApiKeyTokenResponse,
  CreateApiKeyInput,
  Principal,
  RequestContext,
} from '../types.js'
import { toUser } from '../users/user-mapper.js'
import { apiKeyNameSchema, permissionsSchema } from '../users/validation.js'
import { allowsAnyMethod, attenuateRoles, ungrantable } from './permissions.js'

/** Random characters after the prefix: 43 base62 ≈ 256 bits (SPEC §5 asks for at least 32). */
const SECRET_LENGTH = 43
const DISPLAY_PREFIX_LENGTH = 8

/** API keys for service accounts: shown once, stored as SHA-256, attenuated (SPEC §5). */
export function createApiKeyService(deps: CoreDeps) {
  const { store, clock, random, config, keyring } = deps
  const prefix = config.api_keys.prefix
  const useStamp = createUseStamp({
    write: (id, at, staleBefore) => store.touchApiKey(id, at, staleBefore),
    onError: (error) => deps.logger.warn({ err: error }, 'could not record API key use'),
  })

  function toInfo(key: ApiKeyRecord): ApiKeyInfo {
    return {
      id: key.id,
      userId: key.userId,
      name: key.name,
      keyPrefix: key.keyPrefix,
      permissions: [...key.permissions],
      expiresAt: key.expiresAt,
      createdAt: key.createdAt,
      lastUsedAt: key.lastUsedAt,
    }
  }

  function isUsable(key: ApiKeyRecord, owner: UserRecord, now: Date): boolean {
    return (
      key.revokedAt === null &&
      (key.expiresAt === null || key.expiresAt.getTime() > now.getTime()) &&
      owner.active
    )
  }

  /** Cheap shape check before any lookup: prefix, length and alphabet. */
  function looksLikeKey(candidate: string): boolean {
    if (!candidate.startsWith(prefix)) return false
    const secret = candidate.slice(prefix.length)
    return secret.length >= 32 && secret.length <= 128 && /^[0-9A-Za-z]+$/.test(secret)
  }

  async function lookup(
    candidate: string,
  ): Promise<{ key: ApiKeyRecord; owner: UserRecord } | undefined> {
    if (typeof candidate !== 'string' || !looksLikeKey(candidate)) return undefined
    const found = await store.findApiKeyByHash(sha256Hex(candidate))
    const now = clock.now()
    if (!found || !isUsable(found.key, found.owner, now)) return undefined
    useStamp.stamp(found.key.id, found.key.lastUsedAt, now)
    return found
  }

  async function authenticate(candidate: string): Promise<Principal> {
    const found = await lookup(candidate)
    if (!found) {
      deps.emit({ type: 'api_key_auth', outcome: 'rejected' })
      throw new UsersError('UNAUTHORIZED', { message: 'Invalid API key.' })
    }
    deps.emit({ type: 'api_key_auth', outcome: 'accepted' })
    return {
      kind: 'api_key',
      user: toUser(found.owner),
      apiKey: toInfo(found.key),
      permissions: [...found.key.permissions],
    }
  }

  async function create(
    input: CreateApiKeyInput,
    ctx?: RequestContext,
  ): Promise<{ apiKey: ApiKeyInfo; key: string }> {
    const problems: { field: string; message: string }[] = []
    const name = apiKeyNameSchema.safeParse(input.name)
    if (!name.success) problems.push({ field: 'name', message: issue(name.error) })
    const permissions = permissionsSchema.safeParse(input.permissions)
    if (!permissions.success) {
      problems.push({ field: 'permissions', message: issue(permissions.error) })
    }
    const now = clock.now()
    const expiresAt = input.expiresAt ?? null
    if (expiresAt !== null && (Number.isNaN(expiresAt.getTime()) || expiresAt <= now)) {
      problems.push({ field: 'expires_at', message: 'must be a time in the future' })
    }
    if (!name.success || !permissions.success || problems.length > 0) {
      throw new UsersError('VALIDATION_ERROR', {
        message: `invalid API key request: ${problems.map((p) => p.field).join(', ')}`,
        details: { fields: problems },
      })
    }
    const owner = await store.findUserById(input.userId)
    if (!owner) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    if (ctx?.actor) {
      const missing = ungrantable(ctx.actor, permissions.data)
      if (missing.length > 0) {
        throw new UsersError('FORBIDDEN', {
          message: `A key cannot grant permissions its creator lacks: ${missing.join(', ')}.`,
          details: { permissions: missing },
        })
      }
    }
    const secret = random.string(SECRET_LENGTH, BASE62)
    const key = `${prefix}${secret}`
    const record: ApiKeyRecord = {
      id: random.uuid(),
      userId: owner.id,
      name: name.data,
      keyHash: sha256Hex(key),
      keyPrefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
      permissions: permissions.data,
      expiresAt,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    }
    await store.insertApiKey(record, [
      deps.audit.build('api_key.created', owner.id, ctx, {
        api_key_id: record.id,
        name: record.name,
        key_prefix: record.keyPrefix,
        permissions: record.permissions,
      }),
    ])
    return { apiKey: toInfo(record), key }
  }

  async function exchange(candidate: string, ctx?: RequestContext): Promise<ApiKeyTokenResponse> {
    const principal = await authenticate(candidate)
    const key = principal.apiKey as ApiKeyInfo
    // A token that may call no route would only be a credential to leak.
    if (!allowsAnyMethod(key.permissions)) {
      throw new UsersError('FORBIDDEN', {
        message: 'This API key allows no request method (read, write or delete); it has no token.',
      })
    }
    const roles = attenuateRoles(principal.user.roles, key.permissions)
    const scope = computeScope(config.jwt, roles)
    const access = await keyring.issueAccessToken({
      user: {
        id: principal.user.id,
        username: principal.user.username,
        email: principal.user.email,
        roles,
      },
      scope,
      roles,
      apiKeyId: key.id,
      permissions: key.permissions,
    })
    void ctx
    deps.emit({ type: 'token_issued', kind: 'access' })
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: config.jwt.access_ttl_seconds,
      scope,
    }
  }

  return {
    create,
    authenticate,
    exchange,
    lookup,
    toInfo,
    async validate(candidate: string): Promise<ApiKeyInfo | undefined> {
      const found = await lookup(candidate)
      return found ? toInfo(found.key) : undefined
    },
    async get(id: string): Promise<ApiKeyInfo | undefined> {
      const key = await store.findApiKeyById(id)
      return key && key.revokedAt === null ? toInfo(key) : undefined
    },
    async list(userId: string): Promise<ApiKeyInfo[]> {
      return (await store.listApiKeys(userId)).map(toInfo)
    },
    async revoke(id: string, ctx?: RequestContext): Promise<void> {
      const key = await store.findApiKeyById(id)
      if (!key || key.revokedAt !== null) {
        throw new UsersError('NOT_FOUND', { message: 'No such API key.' })
      }
      await store.revokeApiKey(id, clock.now(), [
        deps.audit.build('api_key.revoked', key.userId, ctx, {
          api_key_id: id,
          name: key.name,
        }),
      ])
    },
    isApiKey: (candidate: string) => candidate.startsWith(prefix),
  }
}

/** The API-key service's shape. */
export type ApiKeyService = ReturnType<typeof createApiKeyService>

function issue(error: { issues: { message: string }[] }): string {
  return error.issues[0]?.message ?? 'invalid'
}
