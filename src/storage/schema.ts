import type { ColumnType } from 'kysely'

// The SQL shape of every table, snake_case as stored. Timestamps are epoch milliseconds: SQLite
// hands back numbers, pg hands back BIGINT as strings (we never install global type parsers), so
// reads are typed `number | string` and the mapping layer converts with Number().

/** An epoch-milliseconds column (INTEGER on SQLite, BIGINT on PostgreSQL). */
export type Millis = ColumnType<number | string, number, number>
/** A boolean column: INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL. */
export type Bool = ColumnType<number | boolean, number | boolean, number | boolean>
/** An integer counter that may come back as a string from a PostgreSQL BIGINT. */
export type BigCount = ColumnType<number | string, number, number>

/** `users`: one row per account; `*_lower` columns carry the case-insensitive uniqueness. */
export interface UsersTable {
  id: string
  username: string
  username_lower: string
  email: string | null
  email_lower: string | null
  display_name: string | null
  /** JSON array of role names. */
  roles: string
  active: Bool
  password_hash: string
  created_at: Millis
  updated_at: Millis
  last_login: Millis | null
}

/** `sessions`: one row per login session, updated in place on every refresh. */
export interface SessionsTable {
  id: string
  user_id: string
  refresh_hash: string
  previous_refresh_hash: string | null
  rotated_at: Millis | null
  sealed_refresh_token: string | null
  /** Truncated hashes of replaced refresh tokens, newest first (migration 0007). */
  former_refresh_hashes: string
  generation: number
  created_at: Millis
  last_used_at: Millis
  expires_at: Millis
  revoked_at: Millis | null
  ip: string | null
  user_agent: string | null
  /** Space-separated RFC 8176 methods of an MFA login; '' otherwise (migration 0011). */
  amr: ColumnType<string, string | undefined, string>
}

/** `api_keys`: only the SHA-256 of a key is stored. */
export interface ApiKeysTable {
  id: string
  user_id: string
  name: string
  key_hash: string
  key_prefix: string
  /** JSON array of permissions. */
  permissions: string
  expires_at: Millis | null
  created_at: Millis
  last_used_at: Millis | null
  revoked_at: Millis | null
}

/** `signing_keys`: JWT signing keys with their life-cycle instants. */
export interface SigningKeysTable {
  kid: string
  algorithm: string
  public_jwk: string
  private_key: string
  created_at: Millis
  activates_at: Millis | null
  expires_at: Millis | null
}

/** `denied_jtis`: access tokens logged out before they expire. */
export interface DeniedJtisTable {
  jti: string
  expires_at: Millis
}

/** `audit_events`: the append-only, hash-chained audit trail. */
export interface AuditEventsTable {
  seq: BigCount
  id: string
  at: Millis
  type: string
  actor_type: string
  actor_id: string | null
  user_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  /** JSON object. */
  details: string
  prev_hash: string
  hash: string
}

/** `audit_chain`: the single row holding the chain head, the pruning anchor and the seal. */
export interface AuditChainTable {
  id: number
  head_seq: BigCount
  head_hash: string
  anchor_seq: BigCount
  anchor_hash: string
  /** HMAC tag of the chain up to the head; null while the chain is unkeyed (migration 0008). */
  head_tag: string | null
  keyed_seq: BigCount | null
  keyed_tag: string | null
  key_check: string | null
}

/** `users_count`: the single row holding the number of users (and of active ones), kept by triggers on `users`. */
export interface UsersCountTable {
  id: number
  total: BigCount
  active: BigCount
}

/** `user_roles`: one row per role a user holds, kept by triggers on `users` (migration 0006). */
export interface UserRolesTable {
  role: string
  user_id: string
  /** A copy of the user's `active`. */
  active: Bool
}

/** `users_core_migrations`: which migrations ran, and when. */
export interface MigrationsTable {
  name: string
  applied_at: Millis
}

/** `instance_secrets`: generated keys shared by every instance of the database (migration 0009). */
export interface InstanceSecretsTable {
  name: string
  value: string
  created_at: Millis
}

/** `sip_credentials`: per-device SIP credentials, only sealed HA1s kept (migration 0010). */
export interface SipCredentialsTable {
  id: string
  user_id: string
  label: string
  sip_username: string
  /** Lower case: sip_username is unique case-insensitively. */
  sip_username_lower: string
  realm: string
  /** JSON object of sealed HA1s by variant. */
  sealed_ha1s: string
  created_at: Millis
  last_used_at: Millis | null
  revoked_at: Millis | null
}

/** `mfa_factors`: TOTP secrets (sealed) and WebAuthn credentials (migration 0011). */
export interface MfaFactorsTable {
  id: string
  user_id: string
  type: string
  name: string | null
  status: string
  totp_secret: string | null
  totp_last_step: BigCount | null
  credential_id: string | null
  public_key: string | null
  sign_count: BigCount | null
  /** JSON array of transports. */
  transports: string
  created_at: Millis
  confirmed_at: Millis | null
  last_used_at: Millis | null
}

/** `mfa_recovery_codes`: SHA-256 of each recovery code, single use. */
export interface MfaRecoveryCodesTable {
  user_id: string
  code_hash: string
  created_at: Millis
  used_at: Millis | null
}

/** `mfa_tokens`: the pending second steps of logins, by SHA-256 of the token. */
export interface MfaTokensTable {
  token_hash: string
  user_id: string
  ip: string | null
  created_at: Millis
  expires_at: Millis
  consumed_at: Millis | null
  webauthn_challenge: string | null
}

/** `webauthn_challenges`: registration challenges, by SHA-256, single use. */
export interface WebauthnChallengesTable {
  challenge_hash: string
  user_id: string
  expires_at: Millis
  consumed_at: Millis | null
}

/** The whole database as Kysely sees it. */
export interface Database {
  users: UsersTable
  sessions: SessionsTable
  api_keys: ApiKeysTable
  signing_keys: SigningKeysTable
  denied_jtis: DeniedJtisTable
  audit_events: AuditEventsTable
  audit_chain: AuditChainTable
  users_count: UsersCountTable
  user_roles: UserRolesTable
  instance_secrets: InstanceSecretsTable
  sip_credentials: SipCredentialsTable
  mfa_factors: MfaFactorsTable
  mfa_recovery_codes: MfaRecoveryCodesTable
  mfa_tokens: MfaTokensTable
  webauthn_challenges: WebauthnChallengesTable
  users_core_migrations: MigrationsTable
}

/** The SQL dialects users-core runs on. */
export type Dialect = 'sqlite' | 'postgres'
