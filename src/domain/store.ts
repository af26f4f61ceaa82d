import type {
  ApiKeyRecord,
  AuditChainKey,
  AuditEventInput,
  AuditEventRecord,
  MfaFactorRecord,
  MfaTokenRecord,
  SessionRecord,
  SigningKeyRecord,
  SipCredentialRecord,
  UserRecord,
} from './records.js'

/** Filter and page for {@link Store.listUsers}; newest first. */
export interface UserQuery {
  /** Case-insensitive substring of username, email or display name. */
  search?: string
  active?: boolean
  role?: string
  limit: number
  offset: number
}

/** Filter and page for {@link Store.listAuditEvents}; newest first. */
export interface AuditQuery {
  userId?: string
  type?: string
  since?: Date
  until?: Date
  limit: number
  offset: number
}

/** Where {@link Store.listUsersOldestFirst} resumes: the last user of the previous page. */
export interface UserCursor {
  createdAt: Date
  id: string
}

/** A page of rows plus the count of all matches. */
export interface Page<T> {
  items: T[]
  total: number
}

/** Fields {@link Store.updateUser} may change; absent = unchanged. */
export interface UserPatch {
  email?: string | null
  displayName?: string | null
  active?: boolean
  roles?: string[]
  passwordHash?: string
  lastLogin?: Date
  updatedAt: Date
}

/** Guards and side effects applied in the same transaction as a user change. */
export interface UserChangeOptions {
  /** Revoke every live session of the user at this instant (password change, deactivation). */
  revokeSessionsAt?: Date
  /**
   * Refuse with CONFLICT when, after the change, no active admin would remain (SPEC §6.2:
   * the last active admin cannot be deleted or demoted).
   */
  keepAnActiveAdmin?: boolean
  /** Revoke every live API key of the user at `at`; `audit` names the revoked keys. */
  revokeApiKeys?: { at: Date; audit: (keys: { id: string; name: string }[]) => AuditEventInput[] }
}

/** What a refresh rotation writes: the session's new token state. */
export interface SessionRotation {
  refreshHash: string
  previousRefreshHash: string
  rotatedAt: Date
  sealedRefreshToken: string
  formerRefreshHashes: string
  generation: number
  lastUsedAt: Date
}

/** A signing-key rotation: activate the pre-published next key, retire the current one. */
export interface KeyRotation {
  /** The next key to activate; the rotation fails (false) if it is no longer the next key. */
  nextKid: string
  activatesAt: Date
  /** The key that signed until now, published until this instant. */
  retiringKid: string | null
  retiredExpiresAt: Date
  /** The new pre-published next key. */
  newNext: SigningKeyRecord
}

/** Revoke a user's live sessions but one (the caller's own), in the same transaction. */
export interface RevokeOtherSessions {
  at: Date
  /** The session left alive; undefined revokes them all. */
  keepSessionId: string | undefined
}

/** The one-time use a second step of a login makes of a factor, applied only once. */
export type MfaFactorUse =
  /** Applies only while the factor's last accepted step is below `step` (each code once). */
  | { kind: 'totp'; factorId: string; step: number }
  /** Applies only while this code of the user is unused. */
  | { kind: 'recovery_code'; userId: string; codeHash: string }
  | { kind: 'webauthn'; factorId: string; signCount: number }

/** Why {@link Store.completeMfaLogin} wrote nothing. */
export type MfaCompletion = 'completed' | 'token_used' | 'factor_used'

/** The result of running migrations: what ran, never a throw for "already applied". */
export interface MigrationResult {
  applied: string[]
  alreadyApplied: string[]
}

/** The migration that made room for the audit seal: when it ran just now, start-up seals the chain. */
export const AUDIT_CHAIN_KEY_MIGRATION = '0008_audit_chain_key'

/** The head of the audit hash chain and the anchor left by retention pruning. */
export interface AuditChainState {
  /** seq and hash of the newest event (0 and the genesis hash when empty). */
  headSeq: number
  headHash: string
  /** seq and hash of the last pruned event: verification starts after it. */
  anchorSeq: number
  anchorHash: string
  /** HMAC tag of the chain up to the head; null while unkeyed. */
  headTag: string | null
  /** seq where the keyed tag starts (the seal, or the anchor once pruning passed it). */
  keyedSeq: number | null
  /** The tag at `keyedSeq` when pruning moved past the seal; null at the seal itself. */
  keyedTag: string | null
  /** HMAC of a constant under the key, to tell a wrong key at start. */
  keyCheck: string | null
}

/**
 * The storage port, shaped by the tasks of the domain (STYLE habit 2). Each method is atomic;
 * `audit` events passed to a method are written in the same transaction as its change, chained
 * to the previous event. Unique violations surface as `UsersError('CONFLICT')` with
 * `details: { field }`; an unreachable database as `UsersError('UNAVAILABLE')`; a row that
 * references a missing user (a session or key for a deleted user) as `UsersError('NOT_FOUND')`.
 * Methods that report "nothing changed" (false/undefined) write none of their audit events.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres'

  /** Applies pending migrations once, even with several processes starting together. */
  migrate(): Promise<MigrationResult>
  /** Cheap round trip for health checks; throws UNAVAILABLE when the database is down. */
  ping(): Promise<void>
  close(): Promise<void>

  // users
  insertUser(user: UserRecord, audit: AuditEventInput[]): Promise<void>
  /**
   * Inserts `user` only if there are no users at all (first-start admin); exactly one of several
   * concurrent callers, in any process, gets true. Audit is written only by the winner.
   */
  insertFirstUser(user: UserRecord, audit: AuditEventInput[]): Promise<boolean>
  /**
   * Bulk insert for import and seeding; rows whose username or email is taken (also by an
   * earlier row of `users`) are skipped. Returns usernames in input order. `audit` may be built
   * from the users actually inserted, to be written in the same transaction.
   */
  insertUsers(
    users: UserRecord[],
    audit: AuditEventInput[] | ((inserted: readonly UserRecord[]) => AuditEventInput[]),
  ): Promise<{ inserted: string[]; skipped: string[] }>
  findUserById(id: string): Promise<UserRecord | undefined>
  /** Case-insensitive lookup. */
  findUserByUsername(username: string): Promise<UserRecord | undefined>
  /**
   * Up to `limit` users oldest first by `(createdAt, id)`, those after `after` (keyset paging:
   * rows inserted meanwhile never shift a page, and a walk never repeats a row).
   */
  listUsersOldestFirst(after: UserCursor | undefined, limit: number): Promise<UserRecord[]>
  /** A page newest first (ties in a fixed order); `total` counts every match. */
  listUsers(query: UserQuery): Promise<Page<UserRecord>>
  /** The number of users, from the count the database keeps exact on every insert and delete. */
  countUsers(): Promise<number>
  /** Returns the updated user, or undefined when it does not exist. */
  updateUser(
    id: string,
    patch: UserPatch,
    options: UserChangeOptions,
    audit: AuditEventInput[],
  ): Promise<UserRecord | undefined>
  /** Deletes the user with their sessions and keys; false when it does not exist. */
  deleteUser(id: string, options: UserChangeOptions, audit: AuditEventInput[]): Promise<boolean>

  // sessions
  /** A successful login: stamps last_login, optionally upgrades the hash, opens the session. */
  recordLogin(session: SessionRecord, userPatch: UserPatch, audit: AuditEventInput[]): Promise<void>
  findSession(id: string): Promise<SessionRecord | undefined>
  /**
   * The session and its user in one read (every refresh and bearer request needs both). Frozen:
   * an implementation may hand the same object to every caller while the database is unchanged.
   */
  findSessionWithUser(id: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>
  /** Live (not revoked, not expired) sessions of a user, newest first. */
  listSessions(userId: string, now: Date): Promise<SessionRecord[]>
  /**
   * Compare-and-swap rotation: applies only while the session is live and its current hash is
   * still `expectedHash`. True when this call rotated it.
   */
  rotateSession(
    id: string,
    expectedHash: string,
    rotation: SessionRotation,
    audit: AuditEventInput[],
  ): Promise<boolean>
  /** Stamps last_used_at (a grace-period repeat) without rotating. */
  touchSession(id: string, at: Date): Promise<void>
  /** True when this call revoked it (false: unknown or already revoked; no audit written). */
  revokeSession(id: string, at: Date, audit: AuditEventInput[]): Promise<boolean>
  /** Revokes every live session of a user; returns how many (the audit is written even if 0). */
  revokeUserSessions(userId: string, at: Date, audit: AuditEventInput[]): Promise<number>
  /** Denies one access token by `jti` until it would have expired anyway. */
  denyAccessToken(jti: string, expiresAt: Date, audit: AuditEventInput[]): Promise<void>
  isAccessTokenDenied(jti: string): Promise<boolean>
  /** Deletes expired sessions and deny-list entries; returns rows removed. */
  pruneExpired(now: Date): Promise<number>

  // API keys
  insertApiKey(key: ApiKeyRecord, audit: AuditEventInput[]): Promise<void>
  /** The key with its owner, by SHA-256 of the full key. Frozen, as `findSessionWithUser`. */
  findApiKeyByHash(keyHash: string): Promise<{ key: ApiKeyRecord; owner: UserRecord } | undefined>
  findApiKeyById(id: string): Promise<ApiKeyRecord | undefined>
  /** A user's keys that are not revoked, newest first. */
  listApiKeys(userId: string): Promise<ApiKeyRecord[]>
  revokeApiKey(id: string, at: Date, audit: AuditEventInput[]): Promise<boolean>
  /** Sets last_used_at = at when it is null or older than `staleBefore` (throttled write). */
  touchApiKey(id: string, at: Date, staleBefore: Date): Promise<void>

  // SIP credentials (SPEC §11)
  insertSipCredential(credential: SipCredentialRecord, audit: AuditEventInput[]): Promise<void>
  /** The credential with its user, by exact `sip_username` (revoked ones included). */
  findSipCredentialByUsername(
    sipUsername: string,
  ): Promise<{ credential: SipCredentialRecord; user: UserRecord } | undefined>
  findSipCredentialById(id: string): Promise<SipCredentialRecord | undefined>
  /** Every credential of a user, revoked ones included, newest first. */
  listSipCredentials(userId: string): Promise<SipCredentialRecord[]>
  revokeSipCredential(id: string, at: Date, audit: AuditEventInput[]): Promise<boolean>
  /** Sets last_used_at = at when it is null or older than `staleBefore` (throttled write). */
  touchSipCredential(id: string, at: Date, staleBefore: Date): Promise<void>

  // signing keys
  listSigningKeys(): Promise<SigningKeyRecord[]>
  /** Inserts `keys` only if no signing key exists; returns the keys stored afterwards. */
  bootstrapSigningKeys(keys: SigningKeyRecord[]): Promise<SigningKeyRecord[]>
  /** Applies a rotation once; false when another process already rotated this next key. */
  rotateSigningKeys(rotation: KeyRotation, audit: AuditEventInput[]): Promise<boolean>
  /** Deletes retired keys whose `expiresAt` has passed. */
  pruneSigningKeys(now: Date): Promise<number>

  // audit
  appendAudit(events: AuditEventInput[]): Promise<void>
  listAuditEvents(query: AuditQuery): Promise<Page<AuditEventRecord>>
  /** Events with seq > afterSeq in seq order, for verification. */
  readAuditChain(afterSeq: number, limit: number): Promise<AuditEventRecord[]>
  auditChainState(): Promise<AuditChainState>
  /**
   * The key appends and pruning tag the chain with from now on (undefined: unkeyed). Appends to
   * a chain that is not sealed stay unkeyed until {@link sealAuditChain}.
   */
  setAuditChainKey(key: AuditChainKey | undefined): void
  /** Seals the chain at its current head with the key; false when it already was sealed. */
  sealAuditChain(): Promise<boolean>
  /** Deletes events older than `before`, moving the anchor; returns how many. */
  pruneAudit(before: Date): Promise<number>

  // multi-factor authentication (SPEC §12)
  /** Every factor of a user, pending and confirmed, oldest first. */
  listMfaFactors(userId: string): Promise<MfaFactorRecord[]>
  /**
   * Adds a factor. A pending TOTP replaces the user's earlier pending one; CONFLICT when a
   * WebAuthn credential is registered already. `recoveryCodeHashes`, when given, replace the
   * user's recovery codes in the same transaction.
   */
  insertMfaFactor(
    factor: MfaFactorRecord,
    audit: AuditEventInput[],
    recoveryCodeHashes?: string[],
  ): Promise<void>
  /**
   * Confirms a pending factor (its first code accepted at `lastStep`) and, when given, replaces
   * the user's recovery codes; false when it is not pending any more.
   */
  confirmMfaFactor(
    id: string,
    confirmation: { at: Date; totpLastStep: number | null; recoveryCodeHashes?: string[] },
    audit: AuditEventInput[],
  ): Promise<boolean>
  /**
   * Deletes a factor of the user. When it was the last confirmed one, the recovery codes go too
   * and `revokeWhenLast` revokes the sessions. Returns how many confirmed factors remain, or
   * undefined when the user had no such factor (nothing written).
   */
  deleteMfaFactor(
    userId: string,
    factorId: string,
    revokeWhenLast: RevokeOtherSessions,
    audit: AuditEventInput[],
  ): Promise<number | undefined>
  /** Replaces the user's recovery codes (the old ones stop working) and revokes sessions. */
  replaceRecoveryCodes(
    userId: string,
    codeHashes: string[],
    revoke: RevokeOtherSessions,
    audit: AuditEventInput[],
  ): Promise<void>
  /** SHA-256 hashes of the user's unused recovery codes. */
  listUnusedRecoveryCodes(userId: string): Promise<string[]>
  insertMfaToken(token: MfaTokenRecord): Promise<void>
  findMfaToken(tokenHash: string): Promise<MfaTokenRecord | undefined>
  /**
   * The second step of a login, atomically: consumes the `mfa_token` (once, while unexpired at
   * `session.createdAt`), applies the factor's one-time use, and records the login as
   * {@link recordLogin} does. Nothing is written unless all of it applies.
   */
  completeMfaLogin(
    tokenHash: string,
    use: MfaFactorUse,
    session: SessionRecord,
    userPatch: UserPatch,
    audit: AuditEventInput[],
  ): Promise<MfaCompletion>
  /** Keeps a WebAuthn registration challenge (its SHA-256) for the user until `expiresAt`. */
  insertWebauthnChallenge(challengeHash: string, userId: string, expiresAt: Date): Promise<void>
  /** Uses the challenge once: true when it was the user's, unused and unexpired at `now`. */
  consumeWebauthnChallenge(challengeHash: string, userId: string, now: Date): Promise<boolean>

  // instance secrets
  /**
   * The secret stored under `name`; stores `candidate` first when there is none, so every
   * instance, however many start together, gets the same value.
   */
  instanceSecret(name: string, candidate: string, at: Date): Promise<string>
}
