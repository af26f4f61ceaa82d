import type { Config, ConfigInput } from './config/schema.js'
import type {
  ApiKeyPermission,
  AuditActor,
  AuditEventRecord,
  SigningAlgorithm,
} from './domain/records.js'
import type { AuditChainState, MigrationResult, Page } from './domain/store.js'
import type { Clock } from './lib/clock.js'

export type { ApiKeyPermission, AuditActor, Config, ConfigInput, Page, SigningAlgorithm }

/** A user as the library returns it (SPEC §9): never a hash. */
export interface User {
  id: string
  username: string
  email: string | null
  displayName: string | null
  roles: string[]
  active: boolean
  createdAt: Date
  updatedAt: Date
  lastLogin: Date | null
}

/** The answer to a login or refresh. */
export interface TokenResponse {
  accessToken: string
  tokenType: 'Bearer'
  expiresIn: number
  refreshToken: string
  refreshExpiresIn: number
  scope: string
  user: User
}

/** The second factors a login can finish with (SPEC §12). */
export type MfaMethod = 'totp' | 'recovery_code' | 'webauthn'

/**
 * `details` of the 401 `MFA_REQUIRED` that `authenticatePassword` throws (and `POST /auth/login`
 * answers) for a user with a confirmed factor: snake_case, the same object in both. `webauthn`
 * holds the WebAuthn request options (challenge, allowed credentials) when `methods` has it.
 */
export interface MfaChallengeDetails {
  mfa_token: string
  methods: MfaMethod[]
  expires_in: number
  webauthn?: Record<string, unknown>
}

/** A confirmed second factor as its owner and admins see it: never its secret. */
export interface MfaFactor {
  id: string
  type: 'totp' | 'webauthn'
  name: string | null
  createdAt: Date
  lastUsedAt: Date | null
}

/** A user's second factors and how many unused recovery codes remain. */
export interface MfaStatus {
  enabled: boolean
  factors: MfaFactor[]
  recoveryCodesRemaining: number
}

/** A pending TOTP enrolment: shown once, confirmed by a first code. */
export interface TotpEnrolment {
  secret: string
  otpauthUri: string
}

/**
 * Recovery codes issued with a first factor (`null` when the user already holds a set: adding
 * a factor does not replace printed codes).
 */
export interface FactorConfirmation {
  factor: MfaFactor
  recoveryCodes: string[] | null
}

/** Input of `core.mfa.verify`, the second step of a login. */
export type MfaVerifyInput =
  | { mfaToken: string; method: 'totp' | 'recovery_code'; code: string }
  | { mfaToken: string; method: 'webauthn'; assertion: unknown }

/** An access token minted for an API key: no refresh token, no session. */
export interface ApiKeyTokenResponse {
  accessToken: string
  tokenType: 'Bearer'
  expiresIn: number
  scope: string
}

/** What is shown of an API key after creation (SPEC §6.2 `key_info`). */
export interface ApiKeyInfo {
  id: string
  userId: string
  name: string
  keyPrefix: string
  permissions: ApiKeyPermission[]
  expiresAt: Date | null
  createdAt: Date
  lastUsedAt: Date | null
}

/** A session as listed to its owner. */
export interface SessionInfo {
  id: string
  createdAt: Date
  lastUsedAt: Date
  expiresAt: Date
  ip: string | null
  userAgent: string | null
  /** True for the session of the access token making the request. */
  current: boolean
}

/** An audit event as listed (SPEC §8). */
export type AuditEvent = Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>

/**
 * Who is calling: the result of authenticating an access token or an API key. Roles are the
 * user's current roles from the database, never the token's.
 */
export interface Principal {
  kind: 'access_token' | 'api_key'
  user: User
  /** Session of the access token (absent for API keys and API-key tokens). */
  sessionId?: string
  /** `jti` and `exp` of the access token. */
  jti?: string
  expiresAt?: Date
  /** Present when authenticated by an API key: the key and its permissions. */
  apiKey?: ApiKeyInfo
  /**
   * Permissions of the credential: all of them for a user's own access token; the key's for an
   * API key; for an API-key-derived JWT the permissions it was cut to.
   */
  permissions: ApiKeyPermission[]
}

/** Options of a password change or reset; every session is revoked either way. */
export interface PasswordChangeOptions {
  /** Also revoke every API key of the user (and so the tokens minted from them). */
  revokeApiKeys?: boolean
}

/** Request facts recorded with audit events and used for lockout; all optional. */
export interface RequestContext {
  actor?: Principal
  ip?: string | null
  userAgent?: string | null
  requestId?: string | null
}

/** Input of `core.createUser`. */
export interface CreateUserInput {
  username: string
  password: string
  email?: string | null
  displayName?: string | null
  roles?: string[]
}

/** Input of `core.users.update`; `null` clears email / display name. */
export interface UpdateUserInput {
  email?: string | null
  displayName?: string | null
  active?: boolean
  roles?: string[]
}

/** Filter of `core.users.list`. */
export interface UserFilter {
  search?: string
  active?: boolean
  role?: string
  /** Default 50, at most 1000. */
  limit?: number
  offset?: number
}

/** Filter of `core.audit.list`. */
export interface AuditFilter {
  userId?: string
  type?: string
  since?: Date
  until?: Date
  limit?: number
  offset?: number
}

/** Input of `core.apiKeys.create`. */
export interface CreateApiKeyInput {
  userId: string
  name: string
  permissions: ApiKeyPermission[]
  expiresAt?: Date | null
}

/** A SIP credential as shown (SPEC §11): never its secret or an HA1. */
export interface SipCredentialInfo {
  id: string
  userId: string
  label: string
  sipUsername: string
  realm: string
  createdAt: Date
  lastUsedAt: Date | null
  revoked: boolean
}

/** Input of `core.sip.createCredential`; `sipUsername` defaults to `<username>-<label>`. */
export interface CreateSipCredentialInput {
  userId: string
  label: string
  sipUsername?: string
}

/** A digest response as a registrar forwards it (RFC 8760 names), for `core.sip.verifyDigest`. */
export interface SipDigestInput {
  username: string
  realm: string
  method: string
  uri: string
  nonce: string
  response: string
  /** `MD5` (default), `SHA-256`, `SHA-512-256`, or one of them with `-sess`. */
  algorithm?: string | undefined
  /** Only `auth`; absent for RFC 2069 style responses. */
  qop?: string | undefined
  nc?: string | undefined
  cnonce?: string | undefined
  /** The phone's address as the registrar saw it (lockout and audit); else the caller's. */
  sourceIp?: string | undefined
}

/** The answer of a digest check: the same `{ valid: false }` for every kind of failure. */
export type SipDigestResult =
  | { valid: false }
  | {
      valid: true
      userId: string
      username: string
      sipUsername: string
      credentialId: string
      roles: string[]
    }

/** Input of `core.sip.readHa1`; `username` may carry `@realm` for the `ha1b` variant. */
export interface SipHa1Query {
  username: string
  realm: string
  /** `MD5` (default), `SHA-256` or `SHA-512-256`. */
  algorithm?: string | undefined
}

/** RFC 7662 answer. */
export type IntrospectionResult =
  | { active: false }
  | {
      active: true
      sub: string
      username: string
      scope: string
      roles: string[]
      exp: number | null
      iat: number
      iss: string
      aud: string[]
      jti: string | null
      sid: string | null
      token_type: 'access_token' | 'api_key'
      /** The key's permissions, for an API key or a token minted from one; absent otherwise. */
      permissions?: ApiKeyPermission[]
      /** The token's `amr` and `acr` claims, for an access token of an MFA login (SPEC §12). */
      amr?: string[]
      acr?: string
    }

/** A JWK as published in the JWKS. */
export interface PublicJwk {
  kty: string
  kid: string
  use: 'sig'
  alg: SigningAlgorithm
  [member: string]: unknown
}

/** A signing key as listed by `keys list`. */
export interface SigningKeyInfo {
  kid: string
  algorithm: SigningAlgorithm
  status: 'next' | 'current' | 'retired'
  createdAt: Date
  activatesAt: Date | null
  expiresAt: Date | null
}

/** Result of `audit verify`. */
export interface AuditVerification {
  ok: boolean
  /** True when the chain key was configured and the chain's sealed head was checked with it. */
  keyed: boolean
  checked: number
  /** seq of the first broken link and why, when not ok. */
  problem?: { seq: number; reason: string }
  state: AuditChainState
}

/** The service `init()` returns: the same powers as the REST API (SPEC §9). */
export interface UsersCore {
  readonly config: Config
  /** The core's source of time (injected by tests), for servers built over it. */
  readonly clock: Clock
  /** Migrations that ran when this core opened its database. */
  readonly migrations: MigrationResult

  createUser(input: CreateUserInput, ctx?: RequestContext): Promise<User>
  /**
   * Logs in with a password. For a user with a confirmed second factor it throws
   * `UsersError('MFA_REQUIRED')` whose `details` are {@link MfaChallengeDetails}; finish with
   * `mfa.verify`.
   */
  authenticatePassword(
    username: string,
    password: string,
    ctx?: RequestContext,
  ): Promise<TokenResponse>
  refreshToken(refreshToken: string, ctx?: RequestContext): Promise<TokenResponse>
  /** Revokes the principal's session and access token, or every session of the user. */
  logout(
    principal: Principal,
    options?: { allSessions?: boolean },
    ctx?: RequestContext,
  ): Promise<void>
  /** Validates an access token as users-core itself does (SPEC §4.4); UNAUTHORIZED otherwise. */
  authenticateAccessToken(token: string): Promise<Principal>
  /** Validates an API key; UNAUTHORIZED when unknown, expired, revoked or its owner inactive. */
  authenticateApiKey(key: string): Promise<Principal>
  /** Accepts an access token or an API key (`Authorization: Bearer` may carry either). */
  authenticateBearer(credential: string): Promise<Principal>
  introspect(token: string): Promise<IntrospectionResult>
  jwks(): Promise<{ keys: PublicJwk[] }>

  readonly users: {
    get(id: string): Promise<User | undefined>
    getByUsername(username: string): Promise<User | undefined>
    list(filter?: UserFilter): Promise<Page<User>>
    count(): Promise<number>
    update(id: string, input: UpdateUserInput, ctx?: RequestContext): Promise<User>
    setRoles(id: string, roles: string[], ctx?: RequestContext): Promise<User>
    delete(id: string, ctx?: RequestContext): Promise<void>
    /**
     * Self-service change: checks `oldPassword` like a login (INVALID_CREDENTIALS when wrong,
     * ACCOUNT_LOCKED after `max_failed_logins` from one IP).
     */
    changePassword(
      id: string,
      oldPassword: string,
      newPassword: string,
      ctx?: RequestContext,
      options?: PasswordChangeOptions,
    ): Promise<void>
    /** Admin reset: no old password. */
    resetPassword(
      id: string,
      newPassword: string,
      ctx?: RequestContext,
      options?: PasswordChangeOptions,
    ): Promise<void>
    /**
     * Imports users with existing hashes (`$argon2id$`, `$argon2i$`, bcrypt `$2a$/$2b$/$2y$`,
     * passlib `$scrypt$`); they are upgraded to the configured Argon2id at the next login.
     * One result per row, in order.
     */
    importBatch(rows: ImportUserInput[], ctx?: RequestContext): Promise<ImportResult[]>
    /** Every user with their password hash, oldest first, for `users-core export`. */
    exportAll(): AsyncIterable<ExportedUser>
  }

  /**
   * Second factors (SPEC §12). Enrolment is the user's own act (the REST API allows it to the
   * user only); removal also to admins. Removing the last factor or regenerating recovery codes
   * revokes the user's sessions but `ctx.actor`'s own.
   */
  readonly mfa: {
    status(userId: string): Promise<MfaStatus>
    /** Starts (or restarts) a pending TOTP; CONFLICT when one is confirmed already. */
    enrollTotp(userId: string, ctx?: RequestContext): Promise<TotpEnrolment>
    /** Confirms the pending TOTP with a first code (INVALID_CREDENTIALS when wrong). */
    confirmTotp(userId: string, code: string, ctx?: RequestContext): Promise<FactorConfirmation>
    /** Removes the user's TOTP; NOT_FOUND when there is none. */
    removeTotp(userId: string, ctx?: RequestContext): Promise<void>
    /** WebAuthn registration options (`navigator.credentials.create` input, JSON). */
    webauthnRegistrationOptions(
      userId: string,
      ctx?: RequestContext,
    ): Promise<Record<string, unknown>>
    /** Verifies a registration response (the browser's JSON) and stores the credential. */
    registerWebauthn(
      userId: string,
      input: { response: unknown; name?: string | null },
      ctx?: RequestContext,
    ): Promise<FactorConfirmation>
    /** Removes one factor by id; NOT_FOUND when the user has no such factor. */
    removeFactor(userId: string, factorId: string, ctx?: RequestContext): Promise<void>
    /** A new set of recovery codes; the old ones stop working. CONFLICT without a factor. */
    regenerateRecoveryCodes(userId: string, ctx?: RequestContext): Promise<string[]>
    /**
     * The second step of a login: the `mfa_token` of the MFA_REQUIRED challenge and a factor.
     * INVALID_TOKEN for an unknown, used, expired or other-IP token; INVALID_CREDENTIALS for a
     * wrong or used code, counted toward the lockout.
     */
    verify(input: MfaVerifyInput, ctx?: RequestContext): Promise<TokenResponse>
  }

  readonly sessions: {
    list(userId: string, currentSessionId?: string): Promise<SessionInfo[]>
    /** NOT_FOUND when the session is not the user's or not live. */
    revoke(userId: string, sessionId: string, ctx?: RequestContext): Promise<void>
  }

  readonly apiKeys: {
    create(
      input: CreateApiKeyInput,
      ctx?: RequestContext,
    ): Promise<{ apiKey: ApiKeyInfo; key: string }>
    validate(key: string): Promise<ApiKeyInfo | undefined>
    get(id: string): Promise<ApiKeyInfo | undefined>
    list(userId: string): Promise<ApiKeyInfo[]>
    revoke(id: string, ctx?: RequestContext): Promise<void>
    /** Exchanges an API key for a short-lived access token (SPEC §5). */
    exchange(key: string, ctx?: RequestContext): Promise<ApiKeyTokenResponse>
  }

  /** SIP credentials for digest-only phones (SPEC §11). */
  readonly sip: {
    /** Creates a credential; its secret is in the answer and nowhere else, ever. */
    createCredential(
      input: CreateSipCredentialInput,
      ctx?: RequestContext,
    ): Promise<{ credential: SipCredentialInfo; secret: string }>
    /** Every credential of a user, revoked ones included, newest first. */
    listCredentials(userId: string): Promise<SipCredentialInfo[]>
    getCredential(id: string): Promise<SipCredentialInfo | undefined>
    /** NOT_FOUND when unknown or already revoked. */
    revokeCredential(id: string, ctx?: RequestContext): Promise<void>
    /**
     * Checks a digest response against the stored HA1, which never leaves; ACCOUNT_LOCKED after
     * `sip.max_failed_auths` failures for one (sip_username, source).
     */
    verifyDigest(input: SipDigestInput, ctx?: RequestContext): Promise<SipDigestResult>
    /** The HA1 of a live credential, for registrars that compute the digest; audited. */
    readHa1(
      query: SipHa1Query,
      ctx?: RequestContext,
    ): Promise<{ ha1: string; userId: string } | undefined>
  }

  readonly keys: {
    list(): Promise<SigningKeyInfo[]>
    /** Rotates now; returns the new JWKS. */
    rotate(ctx?: RequestContext): Promise<{ keys: PublicJwk[] }>
    /** Rotates if due (key_rotation_days); true when this process rotated. */
    rotateIfDue(): Promise<boolean>
    /** Re-reads the key set from the database (another instance may have rotated). */
    reload(): Promise<void>
  }

  readonly audit: {
    list(filter?: AuditFilter): Promise<Page<AuditEvent>>
    verify(): Promise<AuditVerification>
    /**
     * Seals an unkeyed chain at its head with the chain key (after `verify`, once the key is
     * first set on a database that has events); false when it already was sealed.
     */
    seal(): Promise<boolean>
    /** Deletes events older than `audit.retention_days`; returns how many. */
    prune(): Promise<number>
  }

  /**
   * First start (SPEC §7): when there are no users, creates the admin `bootstrap.admin_username`
   * with `bootstrap.admin_password`, or a generated strong password returned once here.
   */
  bootstrapAdmin(): Promise<
    { created: false } | { created: true; username: string; generatedPassword?: string }
  >
  /** Listens to what the core does (for metrics); returns the unsubscribe function. */
  subscribe(listener: (event: CoreEvent) => void): () => void
  /** Checks the database; throws UNAVAILABLE when it cannot answer. */
  checkHealth(): Promise<void>
  /** Hash-pool gauges for metrics and load shedding. */
  hashPoolStats(): { active: number; queued: number }
  close(): Promise<void>
}

/** Things the core reports as they happen, for metrics and logs; never carries a secret. */
export type CoreEvent =
  | { type: 'login'; outcome: 'succeeded' | 'failed' | 'locked' }
  | { type: 'token_issued'; kind: 'access' | 'refresh' }
  | { type: 'refresh'; outcome: 'rotated' | 'grace' | 'rejected' | 'reuse_detected' }
  | { type: 'api_key_auth'; outcome: 'accepted' | 'rejected' }
  | { type: 'hash'; waitMs: number; durationMs: number }
  | { type: 'keys_rotated'; kid: string }

/** One line of `users-core import` (snake_case as in the JSON-lines file). */
export interface ImportUserInput {
  username: string
  password_hash: string
  email?: string | null
  display_name?: string | null
  roles?: string[]
  active?: boolean
  created_at?: string
}

/** What happened to one imported row. */
export type ImportResult =
  | { status: 'imported'; id: string }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; reason: string }

/** A user as written by `users-core export`: snake_case, with the hash. */
export interface ExportedUser {
  id: string
  username: string
  email: string | null
  display_name: string | null
  roles: string[]
  active: boolean
  password_hash: string
  created_at: string
  updated_at: string
  last_login: string | null
}
