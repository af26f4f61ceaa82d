/** Every error code users-core produces (SPEC §6.1). Callers switch on these literals. */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'WEAK_PASSWORD'
  | 'UNAUTHORIZED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'MFA_REQUIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'ACCOUNT_LOCKED'
  | 'INTERNAL_ERROR'
  | 'OVERLOADED'
  | 'UNAVAILABLE'

/** HTTP status per code; a new code without a status does not compile. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  VALIDATION_ERROR: 400,
  WEAK_PASSWORD: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_TOKEN: 401,
  MFA_REQUIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  ACCOUNT_LOCKED: 429,
  INTERNAL_ERROR: 500,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
})

/** Default human-readable message per code; specific throws may say more. */
export const DEFAULT_MESSAGES: Readonly<Record<ErrorCode, string>> = Object.freeze({
  VALIDATION_ERROR: 'The request is invalid.',
  WEAK_PASSWORD: 'The password does not meet the password policy.',
  UNAUTHORIZED: 'Authentication is required.',
  INVALID_CREDENTIALS: 'Invalid username or password.',
  INVALID_TOKEN: 'The refresh token is invalid, expired or revoked.',
  MFA_REQUIRED: 'A second factor is required; finish with POST /auth/mfa/verify.',
  FORBIDDEN: 'You are not allowed to do this.',
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: 'Method not allowed.',
  CONFLICT: 'The resource already exists.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported content type; send application/json.',
  RATE_LIMITED: 'Too many requests.',
  ACCOUNT_LOCKED: 'Too many failed logins; try again later.',
  INTERNAL_ERROR: 'Internal error.',
  OVERLOADED: 'The server is busy; try again shortly.',
  UNAVAILABLE: 'The service is unavailable; try again shortly.',
})

/** Options of a {@link UsersError}. */
export interface UsersErrorOptions {
  message?: string
  details?: unknown
  /** Seconds the caller should wait (RATE_LIMITED, ACCOUNT_LOCKED, OVERLOADED, UNAVAILABLE). */
  retryAfterSeconds?: number
  cause?: unknown
}

/** The one error class of users-core; `code` is one of {@link ErrorCode}. */
export class UsersError extends Error {
  override readonly name = 'UsersError'
  readonly code: ErrorCode
  readonly details: unknown
  readonly retryAfterSeconds: number | undefined

  constructor(code: ErrorCode, options: UsersErrorOptions = {}) {
    super(options.message ?? DEFAULT_MESSAGES[code], { cause: options.cause })
    this.code = code
    this.details = options.details
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  /** The HTTP status this error maps to. */
  get status(): number {
    return ERROR_STATUS[this.code]
  }
}

/** True when `value` is a {@link UsersError}, optionally of the given code. */
export function isUsersError(value: unknown, code?: ErrorCode): value is UsersError {
  return value instanceof UsersError && (code === undefined || value.code === code)
}
