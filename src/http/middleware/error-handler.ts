import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type ErrorCode, UsersError } from '../../errors.js'
import type { Logger } from '../../lib/logger.js'
import type { AppEnv } from '../context.js'

// SPEC §6.1: these codes always tell the caller when to come back.
const DEFAULT_RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  RATE_LIMITED: 60,
  ACCOUNT_LOCKED: 60,
  OVERLOADED: 1,
  UNAVAILABLE: 5,
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
}

/**
 * The SPEC §6.1 envelope `{error: {code, message, details?}, request_id}` with the status of
 * `ERROR_STATUS`, plus `Retry-After` and `WWW-Authenticate` where they belong.
 */
export function errorResponse(c: Context<AppEnv>, error: UsersError): Response {
  const body: ErrorEnvelope = { error: errorBody(error), request_id: c.get('requestId') }
  return c.body(JSON.stringify(body), error.status as 400, {
    ...errorHeaders(error, c.get('credentialSent') === true),
    'Content-Type': 'application/json',
  })
}

/**
 * {@link errorResponse} of one error prepared once, for a refusal that must cost next to nothing:
 * only the request id is added per answer.
 */
export function preparedErrorResponse(error: UsersError): (c: Context<AppEnv>) => Response {
  const head = `${JSON.stringify({ error: errorBody(error) }).slice(0, -1)},"request_id":`
  const headers = { ...errorHeaders(error, false), 'Content-Type': 'application/json' }
  const status = error.status as 400
  return (c) => c.body(`${head}${JSON.stringify(c.get('requestId'))}}`, status, headers)
}

interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details?: unknown }
  request_id: string
}

function errorBody(error: UsersError): ErrorEnvelope['error'] {
  const details = error.details
  return {
    code: error.code,
    message: error.message,
    ...(details === undefined ? {} : { details }),
  }
}

function errorHeaders(error: UsersError, credentialSent: boolean): Record<string, string> {
  const headers: Record<string, string> = {}
  const retryAfter = error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS[error.code]
  if (retryAfter !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfter)))
  if (error.code === 'UNAUTHORIZED') {
    // RFC 6750 §3: name the problem only when a credential was actually sent.
    headers['WWW-Authenticate'] = credentialSent
      ? 'Bearer realm="users-core", error="invalid_token"'
      : 'Bearer realm="users-core"'
  }
  return headers
}

/**
 * The app's one `onError`: a UsersError keeps its code; a framework exception maps by status;
 * anything else is a 500 that reveals only the request id and is logged with its stack.
 */
export function errorHandler(options: { logger: Logger }): ErrorHandler<AppEnv> {
  return (err, c) =>
    errorResponse(
      c,
      toUsersError(err, (bug) => logInternal(options.logger, c, bug)),
    )
}

/** What a thrown error becomes; `logBug` receives what is a bug, with its stack, for the log only. */
function toUsersError(err: unknown, logBug: (err: unknown) => void): UsersError {
  if (err instanceof UsersError) {
    if (err.status >= 500 && err.code === 'INTERNAL_ERROR') logBug(err)
    return err
  }
  const mapped = err instanceof HTTPException ? STATUS_CODES[err.status] : undefined
  if (mapped) return new UsersError(mapped)
  logBug(err)
  return new UsersError('INTERNAL_ERROR')
}

function logInternal(logger: Logger, c: Context<AppEnv>, err: unknown): void {
  logger.error(
    { err, request_id: c.get('requestId'), method: c.req.method, path: c.req.path },
    'unhandled error',
  )
}

/** A registered route as Hono lists it in `app.routes`. */
export interface KnownRoute {
  method: string
  path: string
}

/**
 * 404 NOT_FOUND for an unknown path; 405 METHOD_NOT_ALLOWED with `Allow` for a known path and
 * another method; a plain `OPTIONS` on a known path answers 204 with `Allow`.
 */
export function notFoundHandler(routes: () => readonly KnownRoute[]): NotFoundHandler<AppEnv> {
  let compiled: { method: string; pattern: RegExp }[] | undefined
  return (c) => {
    compiled ??= routes()
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, pattern: toRegExp(r.path) }))
    const methods = new Set(compiled.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))
    if (methods.size === 0) {
      return errorResponse(c, new UsersError('NOT_FOUND', { message: 'No such route.' }))
    }
    if (methods.has('GET')) methods.add('HEAD')
    methods.add('OPTIONS')
    const allow = [...methods].join(', ')
    if (c.req.method === 'OPTIONS') return c.body(null, 204, { Allow: allow })
    const res = errorResponse(
      c,
      new UsersError('METHOD_NOT_ALLOWED', { message: `Use one of: ${allow}.` }),
    )
    res.headers.set('Allow', allow)
    return res
  }
}

/** Hono path syntax (`/users/:id`, `/docs/*`) to an anchored RegExp. */
function toRegExp(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*'
      if (segment.startsWith(':')) return '[^/]+'
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return new RegExp(`^${source}$`)
}
