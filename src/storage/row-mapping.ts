import type { Insertable, Selectable, Updateable } from 'kysely'
import type {
  ApiKeyPermission,
  ApiKeyRecord,
  AuditEventRecord,
  AuditEventType,
  SessionRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  UserRecord,
} from '../domain/records.js'
import type { UserPatch } from '../domain/store.js'
import type {
  ApiKeysTable,
  AuditEventsTable,
  SessionsTable,
  SigningKeysTable,
  UsersTable,
} from './schema.js'

// Records <-> rows. pg returns BIGINT as strings, so every integer read goes through Number().

/** A Date as stored: epoch milliseconds. */
export const toMillis = (d: Date): number => d.getTime()
/** A nullable Date as stored. */
export const toMillisOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime())
/** A stored instant back as a Date. */
export const toDate = (v: number | string): Date => new Date(Number(v))
/** A stored nullable instant back as a Date or null. */
export const toDateOrNull = (v: number | string | null): Date | null =>
  v === null ? null : new Date(Number(v))

/** Users' row for an insert; `bool` encodes booleans for the dialect. */
export function userToRow(u: UserRecord, bool: (b: boolean) => number | boolean) {
  return {
    id: u.id,
    username: u.username,
    username_lower: u.username.toLowerCase(),
    email: u.email,
    email_lower: u.email === null ? null : u.email.toLowerCase(),
    display_name: u.displayName,
    roles: JSON.stringify(u.roles),
    active: bool(u.active),
    password_hash: u.passwordHash,
    created_at: toMillis(u.createdAt),
    updated_at: toMillis(u.updatedAt),
    last_login: toMillisOrNull(u.lastLogin),
  } satisfies Insertable<UsersTable>
}

/** The columns a {@link UserPatch} sets; `bool` encodes booleans for the dialect. */
export function userPatchToSet(
  patch: UserPatch,
  bool: (b: boolean) => number | boolean,
): Updateable<UsersTable> {
  const set: Updateable<UsersTable> = { updated_at: toMillis(patch.updatedAt) }
  if (patch.email !== undefined) {
    set.email = patch.email
    set.email_lower = patch.email === null ? null : patch.email.toLowerCase()
  }
  if (patch.displayName !== undefined) set.display_name = patch.displayName
  if (patch.active !== undefined) set.active = bool(patch.active)
  if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles)
  if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash
  if (patch.lastLogin !== undefined) set.last_login = toMillis(patch.lastLogin)
  return set
}

/** A users row as a record. */
export function rowToUser(r: Selectable<UsersTable>): UserRecord {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    displayName: r.display_name,
    roles: JSON.parse(r.roles) as string[],
    active: Boolean(r.active),
    passwordHash: r.password_hash,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    lastLogin: toDateOrNull(r.last_login),
  }
}

/** A session as a row. */
export function sessionToRow(s: SessionRecord) {
  return {
    id: s.id,
    user_id: s.userId,
    refresh_hash: s.refreshHash,
    previous_refresh_hash: s.previousRefreshHash,
    rotated_at: toMillisOrNull(s.rotatedAt),
    sealed_refresh_token: s.sealedRefreshToken,
    former_refresh_hashes: s.formerRefreshHashes,
    generation: s.generation,
    created_at: toMillis(s.createdAt),
    last_used_at: toMillis(s.lastUsedAt),
    expires_at: toMillis(s.expiresAt),
    revoked_at: toMillisOrNull(s.revokedAt),
    ip: s.ip,
    user_agent: s.userAgent,
    amr: amrToColumn(s.amr),
  } satisfies Insertable<SessionsTable>
}

/** A sessions row as a record. */
export function rowToSession(r: Selectable<SessionsTable>): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    refreshHash: r.refresh_hash,
    previousRefreshHash: r.previous_refresh_hash,
    rotatedAt: toDateOrNull(r.rotated_at),
    sealedRefreshToken: r.sealed_refresh_token,
    formerRefreshHashes: r.former_refresh_hashes,
    generation: Number(r.generation),
    createdAt: toDate(r.created_at),
    lastUsedAt: toDate(r.last_used_at),
    expiresAt: toDate(r.expires_at),
    revokedAt: toDateOrNull(r.revoked_at),
    ip: r.ip,
    userAgent: r.user_agent,
    amr: amrOfColumn(r.amr),
  }
}

/** A session's `amr` as stored: space-separated, '' for a password-only login. */
export const amrToColumn = (amr: readonly string[]): string => amr.join(' ')

/** The stored `amr` as the list the access token carries. */
export const amrOfColumn = (column: string): string[] => (column === '' ? [] : column.split(' '))

/** An API key as a row. */
export function apiKeyToRow(k: ApiKeyRecord) {
  return {
    id: k.id,
    user_id: k.userId,
    name: k.name,
    key_hash: k.keyHash,
    key_prefix: k.keyPrefix,
    permissions: JSON.stringify(k.permissions),
    expires_at: toMillisOrNull(k.expiresAt),
    created_at: toMillis(k.createdAt),
    last_used_at: toMillisOrNull(k.lastUsedAt),
    revoked_at: toMillisOrNull(k.revokedAt),
  } satisfies Insertable<ApiKeysTable>
}

/** An api_keys row as a record. */
export function rowToApiKey(r: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    keyHash: r.key_hash,
    keyPrefix: r.key_prefix,
    permissions: JSON.parse(r.permissions) as ApiKeyPermission[],
    expiresAt: toDateOrNull(r.expires_at),
    createdAt: toDate(r.created_at),
    lastUsedAt: toDateOrNull(r.last_used_at),
    revokedAt: toDateOrNull(r.revoked_at),
  }
}

/** A signing key as a row. */
export function signingKeyToRow(k: SigningKeyRecord) {
  return {
    kid: k.kid,
    algorithm: k.algorithm,
    public_jwk: k.publicJwk,
    private_key: k.privateKey,
    created_at: toMillis(k.createdAt),
    activates_at: toMillisOrNull(k.activatesAt),
    expires_at: toMillisOrNull(k.expiresAt),
  } satisfies Insertable<SigningKeysTable>
}

/** A signing_keys row as a record. */
export function rowToSigningKey(r: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: r.kid,
    algorithm: r.algorithm as SigningAlgorithm,
    publicJwk: r.public_jwk,
    privateKey: r.private_key,
    createdAt: toDate(r.created_at),
    activatesAt: toDateOrNull(r.activates_at),
    expiresAt: toDateOrNull(r.expires_at),
  }
}

/** An audit_events row as a record. */
export function rowToAuditEvent(r: Selectable<AuditEventsTable>): AuditEventRecord {
  return {
    seq: Number(r.seq),
    id: r.id,
    at: toDate(r.at),
    type: r.type as AuditEventType,
    actor: { type: r.actor_type as AuditEventRecord['actor']['type'], id: r.actor_id },
    userId: r.user_id,
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  }
}
