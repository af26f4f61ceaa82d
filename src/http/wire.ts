// Domain → JSON on the wire (SPEC §6): snake_case fields, RFC 3339 UTC timestamps.
import type {
  ApiKeyInfo,
  ApiKeyTokenResponse,
  AuditEvent,
  FactorConfirmation,
  MfaFactor,
  SessionInfo,
  TokenResponse,
  User,
} from '../types.js'

/** A `Date` as an RFC 3339 UTC string (`null` stays `null`). */
export function isoTime(date: Date): string
export function isoTime(date: Date | null): string | null
export function isoTime(date: Date | null): string | null {
  return date === null ? null : date.toISOString()
}

/** SPEC §6.2 user object; never a hash (the domain `User` has none to leak). */
export function userToWire(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    display_name: user.displayName,
    roles: user.roles,
    active: user.active,
    created_at: isoTime(user.createdAt),
    updated_at: isoTime(user.updatedAt),
    last_login: isoTime(user.lastLogin),
  }
}

/** SPEC §6.2 token response of login and refresh. */
export function tokenResponseToWire(token: TokenResponse) {
  return {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiresIn,
    refresh_token: token.refreshToken,
    refresh_expires_in: token.refreshExpiresIn,
    scope: token.scope,
    user: userToWire(token.user),
  }
}

/** The answer of `POST /auth/api-key/token`: no refresh token. */
export function apiKeyTokenToWire(token: ApiKeyTokenResponse) {
  return {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiresIn,
    scope: token.scope,
  }
}

/** SPEC §6.2 `key_info`. */
export function apiKeyInfoToWire(info: ApiKeyInfo) {
  return {
    id: info.id,
    user_id: info.userId,
    name: info.name,
    key_prefix: info.keyPrefix,
    permissions: info.permissions,
    expires_at: isoTime(info.expiresAt),
    created_at: isoTime(info.createdAt),
    last_used_at: isoTime(info.lastUsedAt),
  }
}

/** One entry of `GET /users/:id/sessions`. */
export function sessionToWire(session: SessionInfo) {
  return {
    id: session.id,
    created_at: isoTime(session.createdAt),
    last_used_at: isoTime(session.lastUsedAt),
    expires_at: isoTime(session.expiresAt),
    ip: session.ip,
    user_agent: session.userAgent,
    current: session.current,
  }
}

/** SPEC §8 audit event. */
export function auditEventToWire(event: AuditEvent) {
  return {
    id: event.id,
    at: isoTime(event.at),
    type: event.type,
    actor: { type: event.actor.type, id: event.actor.id },
    user_id: event.userId,
    ip: event.ip,
    user_agent: event.userAgent,
    request_id: event.requestId,
    details: event.details,
  }
}

/** A second factor as listed (SPEC §12): never a secret. */
export function mfaFactorToWire(factor: MfaFactor) {
  return {
    id: factor.id,
    type: factor.type,
    name: factor.name,
    created_at: isoTime(factor.createdAt),
    last_used_at: isoTime(factor.lastUsedAt),
  }
}

/** The answer of a factor's confirmation: the factor, and recovery codes with a first one. */
export function factorConfirmationToWire(confirmation: FactorConfirmation) {
  return {
    factor: mfaFactorToWire(confirmation.factor),
    recovery_codes: confirmation.recoveryCodes,
  }
}
