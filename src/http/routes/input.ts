// Helpers the route modules share: parse input at the edge, resolve the caller, check decisions.
import type { Context } from 'hono'
import type { z } from 'zod'
import { UsersError } from '../../errors.js'
import type { Principal, RequestContext } from '../../types.js'
import type { Decision } from '../authz.js'
import type { AppEnv } from '../context.js'
import { UUID_PATTERN } from '../schemas.js'

/** One invalid field of a VALIDATION_ERROR (`details.fields`). */
export interface FieldProblem {
  field: string
  message: string
}

/** Turns zod issues into one entry per invalid field (every one of them, SPEC §6.1). */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String)
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'unknown field' }))
    }
    return [{ field: at.join('.') || '(body)', message: issue.message }]
  })
}

/** Validates `input` against `schema`, or throws VALIDATION_ERROR listing every invalid field. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input, {
    error: (issue) =>
      issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined,
  })
  if (result.success) return result.data
  throw new UsersError('VALIDATION_ERROR', {
    message: `Invalid ${what}.`,
    details: { fields: fieldProblems(result.error) },
  })
}

function mediaType(c: Context<AppEnv>): string | undefined {
  return mediaTypeOf(c.req.header('content-type'))
}

/** The media type of a `Content-Type` value, lower-cased, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase()
}

/** `application/json` or any `application/*+json`. */
export function isJson(type: string | undefined): boolean {
  return (
    type === 'application/json' ||
    (type?.startsWith('application/') && type.endsWith('+json')) === true
  )
}

function bodyText(c: Context<AppEnv>): string | undefined {
  const raw = c.get('rawBody')
  if (raw === undefined || raw.byteLength === 0) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw)
  } catch {
    throw new UsersError('VALIDATION_ERROR', { message: 'The request body is not valid UTF-8.' })
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsersError('VALIDATION_ERROR', { message: 'The request body is not valid JSON.' })
  }
}

function unsupported(accepted: string): UsersError {
  return new UsersError('UNSUPPORTED_MEDIA_TYPE', { message: `Send ${accepted}.` })
}

/**
 * The JSON body validated by `schema`. A non-empty body must be `application/json` (415
 * otherwise); an empty one is validated as `{}`, so missing fields are listed like any others.
 */
export function jsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const text = bodyText(c)
  if (text === undefined) return validate(schema, {}, 'request body')
  if (!isJson(mediaType(c))) throw unsupported('application/json')
  return validate(schema, parseJson(text), 'request body')
}

/** Like {@link jsonBody}, also accepting `application/x-www-form-urlencoded` (RFC 7662 §2.1). */
export function jsonOrFormBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const text = bodyText(c)
  if (text === undefined) return validate(schema, {}, 'request body')
  const type = mediaType(c)
  if (isJson(type)) return validate(schema, parseJson(text), 'request body')
  if (type !== 'application/x-www-form-urlencoded') {
    throw unsupported('application/json or application/x-www-form-urlencoded')
  }
  // A Map, then own properties: a field named `__proto__` or `toString` is a field like any other.
  const form = new Map<string, string>()
  for (const [key, value] of new URLSearchParams(text)) {
    if (form.has(key)) {
      throw new UsersError('VALIDATION_ERROR', {
        message: 'Invalid request body.',
        details: { fields: [{ field: key, message: 'given more than once' }] },
      })
    }
    form.set(key, value)
  }
  return validate(schema, Object.fromEntries(form), 'request body')
}

/** The query string validated by `schema` (a repeated parameter is invalid). */
export function query<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const params = Object.entries(c.req.queries()).map(
    ([key, values]) => [key, values.length === 1 ? (values[0] as string) : values] as const,
  )
  return validate(schema, Object.fromEntries(params), 'query parameters')
}

/** The caller, or 401 UNAUTHORIZED (the refused credential's error when one was sent). */
export function requirePrincipal(c: Context<AppEnv>): Principal {
  const principal = c.get('principal')
  if (principal) return principal
  throw c.get('authError') ?? new UsersError('UNAUTHORIZED')
}

/** Throws FORBIDDEN unless the decision allows; returns how the caller was allowed. */
export function enforce(decision: Decision): 'self' | 'admin' | 'user' {
  if (!decision.allowed)
    throw new UsersError('FORBIDDEN', { message: `Forbidden: ${decision.reason}.` })
  return decision.as
}

/** The RequestContext the core records in audit events and uses for lockout. */
export function requestContext(c: Context<AppEnv>): RequestContext {
  const principal = c.get('principal')
  return {
    ...(principal ? { actor: principal } : {}),
    ip: c.get('clientIp'),
    userAgent: c.req.header('user-agent') ?? null,
    requestId: c.get('requestId'),
  }
}

/** A UUID path parameter; anything else names nothing, so it is a 404. */
export function pathId(c: Context<AppEnv>, name: string): string {
  const value = c.req.param(name)
  if (value === undefined || !UUID_PATTERN.test(value)) throw new UsersError('NOT_FOUND')
  return value.toLowerCase()
}

/**
 * Paging headers (SPEC §6.2): `X-Total-Count`, and `Link: <...>; rel="next"` built from
 * `public_url` when more items remain.
 */
export function setPageHeaders(
  c: Context<AppEnv>,
  publicUrl: string,
  page: { total: number; offset: number; count: number },
): void {
  c.header('X-Total-Count', String(page.total))
  const nextOffset = page.offset + page.count
  if (page.count > 0 && nextOffset < page.total) {
    const url = new URL(c.req.url)
    const params = new URLSearchParams(url.search)
    params.set('offset', String(nextOffset))
    c.header('Link', `<${publicUrl}${url.pathname}?${params.toString()}>; rel="next"`)
  }
}
