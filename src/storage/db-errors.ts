import { UsersError } from '../errors.js'

/** The request field a unique index protects, named the way the API names it. */
export type ConflictField =
  | 'username'
  | 'email'
  | 'name'
  | 'key_hash'
  | 'sip_username'
  | 'label'
  | 'id'

// Node socket errors, PostgreSQL classes 08 (connection), 53 (resources), 57 (operator
// intervention, including statement_timeout's 57014) and SQLite's lock contention past
// busy_timeout: all mean "try again shortly", not "this request is wrong".
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_TIMEOUT',
  'SQLITE_LOCKED',
])
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /driver has already been destroyed/i,
  /the database connection is not open/i,
]

function conflictField(where: string): ConflictField {
  if (where.includes('sip_username')) return 'sip_username'
  if (where.includes('label')) return 'label'
  if (where.includes('username')) return 'username'
  if (where.includes('email')) return 'email'
  if (where.includes('key_hash')) return 'key_hash'
  if (where.includes('name')) return 'name'
  return 'id'
}

/** The UsersError a driver error stands for, or undefined to rethrow it as it is. */
export function mapDatabaseError(error: unknown): UsersError | undefined {
  if (error instanceof UsersError || !(error instanceof Error)) return undefined
  const e = error as Error & { code?: unknown; constraint?: unknown; errors?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    // "UNIQUE constraint failed: users.username_lower"
    const where = e.message.slice(e.message.indexOf(':') + 1)
    const field = conflictField(where)
    return new UsersError('CONFLICT', { message: conflictMessage(field), details: { field } })
  }
  if (code === '23505') {
    const field = conflictField(typeof e.constraint === 'string' ? e.constraint : '')
    return new UsersError('CONFLICT', { message: conflictMessage(field), details: { field } })
  }
  // PostgreSQL text cannot hold NUL (22021 for a parameter, 22P05 for `\u0000` in jsonb): the
  // caller's input is wrong, whichever library call carried it.
  if (code === '22021' || code === '22P05') {
    return new UsersError('VALIDATION_ERROR', {
      message: 'Text must not contain the NUL character.',
      cause: error,
    })
  }
  // The row an insert points at is gone (a key or session for a deleted user).
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503') {
    return new UsersError('NOT_FOUND', { cause: error })
  }
  if (
    UNAVAILABLE_CODES.has(code) ||
    /^(08|53|57)/.test(code) ||
    UNAVAILABLE_MESSAGES.some((re) => re.test(e.message)) ||
    // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
    (Array.isArray(e.errors) && e.errors.some((inner) => mapDatabaseError(inner)))
  ) {
    return new UsersError('UNAVAILABLE', { retryAfterSeconds: 1, cause: error })
  }
  return undefined
}

function conflictMessage(field: ConflictField): string {
  switch (field) {
    case 'username':
      return 'the username is already taken'
    case 'email':
      return 'the email is already in use'
    case 'name':
      return 'an API key with this name already exists'
    case 'sip_username':
      return 'the SIP username is already taken'
    case 'label':
      return 'a SIP credential with this label already exists'
    default:
      return 'the resource already exists'
  }
}
