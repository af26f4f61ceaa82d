// Rows as the domain sees them: camelCase, Date timestamps, parsed JSON. The Store maps to SQL.

import type { AuditEventType } from './audit-event-types.js'

export { AUDIT_EVENT_TYPES, type AuditEventType } from './audit-event-types.js'

/** A stored user account (the password hash never leaves the core). */
export interface UserRecord {
  id: string
  username: string
  email: string | null
  displayName: string | null
  roles: string[]
  active: boolean
  passwordHash: string
  createdAt: Date
  updatedAt: Date
  lastLogin: Date | null
}

/**
 * A login session. One row per session, updated in place on every refresh (SPEC §4.3): the current
 * refresh-token hash, the one it replaced, when, and the replacement token sealed with a key
 * derived from the replaced token so a repeat inside the grace period can be answered with the
 * same new token without the database ever holding a usable token.
 */
export interface SessionRecord {
  id: string
  userId: string
  refreshHash: string
  previousRefreshHash: string | null
  rotatedAt: Date | null
  /** AES-GCM sealed current refresh token, openable only with the previous token. */
  sealedRefreshToken: string | null
  /**
   * The first 128 bits (32 hex characters) of the SHA-256 of each replaced refresh token,
   * concatenated newest first and bounded (`sessions/refresh-decision.ts`): reuse detection.
   */
  formerRefreshHashes: string
  generation: number
  createdAt: Date
  lastUsedAt: Date
  expiresAt: Date
  revokedAt: Date | null
  ip: string | null
  userAgent: string | null
  /**
   * RFC 8176 authentication methods of the login that opened it (`["pwd", "otp"]`); empty for a
   * password-only login. Kept so a refresh issues the same `amr` (SPEC §12).
   */
  amr: string[]
}

/** The permissions an API key can hold (SPEC §5). */
export type ApiKeyPermission = 'read' | 'write' | 'delete' | 'admin' | 'sip' | '*'

/** A stored API key: only the SHA-256 of the full key is kept. */
export interface ApiKeyRecord {
  id: string
  userId: string
  name: string
  keyHash: string
  keyPrefix: string
  permissions: ApiKeyPermission[]
  expiresAt: Date | null
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

/**
 * A SIP credential (SPEC §11): the secret itself is never kept, only its HA1 digests, each sealed
 * with the field sealer under `sip-ha1:<id>:<variant>`.
 */
export interface SipCredentialRecord {
  id: string
  userId: string
  label: string
  sipUsername: string
  realm: string
  /**
   * Sealed HA1 per variant: `MD5`, `SHA-256`, `SHA-512-256` over `sip_username:realm:secret`,
   * and `ha1b:<algorithm>` over `sip_username@realm:realm:secret`.
   */
  sealedHa1s: Record<string, string>
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

/** The signing algorithms users-core supports. */
export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

/**
 * A JWT signing key. Life cycle by columns: `activatesAt` null = the pre-published next key;
 * the signing key is the one with the latest `activatesAt <= now`; `expiresAt` set = retired,
 * published until then.
 */
export interface SigningKeyRecord {
  kid: string
  algorithm: SigningAlgorithm
  /** The public JWK as JSON text (kty, crv/n/e/x/y; no private members). */
  publicJwk: string
  /** PKCS#8 PEM, or `enc:v2:...` (older rows `enc:v1:...`) when sealed with `jwt.key_encryption_secret`. */
  privateKey: string
  createdAt: Date
  activatesAt: Date | null
  expiresAt: Date | null
}

/** The HMAC key that seals the audit chain; never stored in the database. */
export type AuditChainKey = Buffer

/** The kinds of second factor (SPEC §12). */
export type MfaFactorType = 'totp' | 'webauthn'

/**
 * A second factor of a user. TOTP: the secret sealed with the field sealer (context
 * `totp:<user id>:<factor id>`), `pending` until a first code confirms it, and the last time step
 * accepted (each code once). WebAuthn: the credential as `@simplewebauthn/server` verifies it.
 */
export interface MfaFactorRecord {
  id: string
  userId: string
  type: MfaFactorType
  /** A label the user chose (WebAuthn), or null. */
  name: string | null
  status: 'pending' | 'confirmed'
  totpSecretSealed: string | null
  /** The RFC 6238 time step of the last accepted code; a code of this step or earlier is refused. */
  totpLastStep: number | null
  /** base64url credential id (WebAuthn). */
  credentialId: string | null
  /** base64url COSE public key (WebAuthn). */
  publicKey: string | null
  signCount: number | null
  transports: string[]
  createdAt: Date
  confirmedAt: Date | null
  lastUsedAt: Date | null
}

/**
 * The pending second step of a login (SPEC §12): only the SHA-256 of the opaque `mfa_token` is
 * kept; single use, bound to the user and the client IP, with the WebAuthn challenge it asked for.
 */
export interface MfaTokenRecord {
  tokenHash: string
  userId: string
  ip: string | null
  createdAt: Date
  expiresAt: Date
  consumedAt: Date | null
  webauthnChallenge: string | null
}

/** Who performed an audited action. */
export interface AuditActor {
  type: 'user' | 'api_key' | 'system' | 'anonymous'
  id: string | null
}

/** An audit event as written (SPEC §8). `seq`, `prevHash`, `hash` are set by the store. */
export interface AuditEventInput {
  id: string
  at: Date
  type: AuditEventType
  actor: AuditActor
  userId: string | null
  ip: string | null
  userAgent: string | null
  requestId: string | null
  details: Record<string, unknown>
}

/** A stored audit event with its place in the hash chain. */
export interface AuditEventRecord extends AuditEventInput {
  seq: number
  prevHash: string
  hash: string
}
