// Generated HTTP requests for every operation of openapi.yaml: path, query, headers and body
// derived from the document, mixed with hostile values; credentials stay symbolic until sent.
import fc from 'fast-check'
import { CREDENTIALS, type CredentialName, type FuzzWorld } from './fuzz-world.js'
import {
  CONTROL_CHARACTERS,
  contentType,
  controlString,
  encodePathSegment,
  hostileRawBody,
  hostileString,
  MALFORMED_SEGMENTS,
  PROTOTYPE_KEYS,
  toHeaderValue,
} from './hostile.js'
import { documentOperations, type Operation } from './operations.js'
import { anyValue, fuzzedObject, type Hints, sometimes } from './schema-arbitrary.js'

/** How a request authenticates. */
export type FuzzAuth =
  | { kind: 'none' }
  | { kind: 'credential'; name: CredentialName; via: 'bearer' | 'x-api-key' }
  | { kind: 'raw'; header: 'authorization' | 'x-api-key'; value: string }

/** One generated request. */
export interface FuzzRequest {
  op: Operation
  /** The concrete, percent-encoded path. */
  path: string
  /** `?...` or ''. */
  query: string
  /** True when a path segment was deliberately malformed (the route may not match). */
  hostilePath: boolean
  headers: Record<string, string>
  auth: FuzzAuth
  body: string | Uint8Array | undefined
  /** The JSON value behind `body`, when there is one (to harvest created passwords). */
  json: unknown
}

/** Any generated value as text (fast-check makes null-prototype objects: no `String()`). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')
}

function fromPool(pool: () => readonly string[]): fc.Arbitrary<string> {
  return fc.nat().map((i) => {
    const items = pool()
    return items.length === 0
      ? '00000000-0000-4000-8000-000000000000'
      : (items[i % items.length] as string)
  })
}

/** Field hints: known usernames, passwords, tokens and ids of the world. */
export function worldHints(world: FuzzWorld): Hints {
  const { pools } = world
  return (name, schema) => {
    switch (name) {
      case 'username':
        return schema.pattern === undefined
          ? fc.oneof(
              fromPool(() => pools.usernames),
              fromPool(() => pools.usernames).map((u) => u.toUpperCase()),
              fc.stringMatching(/^[a-z]{3,10}$/),
              withControl(fromPool(() => pools.usernames)),
            )
          : undefined
      // Text the store searches or compares: a known value, or one with a control character.
      case 'search':
      case 'role':
      case 'type':
        return fc.oneof(
          { weight: 3, arbitrary: validText(name) },
          { weight: 1, arbitrary: withControl(validText(name)) },
          { weight: 1, arbitrary: controlString() },
        )
      case 'file':
        return fc.oneof(
          fc.constantFrom(...DOCS_ASSETS),
          fc.constantFrom(...PROTOTYPE_KEYS),
          withControl(fc.constantFrom(...DOCS_ASSETS)),
        )
      case 'password':
      case 'old_password':
        return fc.oneof(
          fromPool(() => pools.passwords),
          fc.string({ maxLength: 20 }),
        )
      case 'refresh_token':
        return fc.oneof(
          fromPool(() => pools.refreshTokens),
          fc.base64String({ maxLength: 60 }),
        )
      case 'token':
        return fc.oneof(
          fromPool(() => pools.accessTokens),
          fromPool(() => pools.apiKeys),
          fc.string({ maxLength: 40 }),
        )
      case 'user_id':
        return fromPool(() => pools.userIds)
      case 'mfa_token':
        return fc.oneof(
          fromPool(() => pools.mfaTokens),
          fc.string({ maxLength: 60 }),
        )
      case 'code':
        return fc.oneof(
          fc.stringMatching(/^\d{6}$/),
          fc.stringMatching(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/),
          fc.string({ maxLength: 20 }),
        )
      case 'If-None-Match':
        return fc.oneof(
          fromPool(() => pools.etags),
          fc.constantFrom('*', 'W/"x"', '"nope"'),
        )
      case 'roles':
        return schema.type === 'string'
          ? fc.oneof(
              fc.constantFrom('admin', 'user', 'sip.operator'),
              fc.stringMatching(/^[a-z]{1,8}$/),
            )
          : undefined
      default:
        return undefined
    }
  }
}

/** `value` with one control character (NUL most often) at a random place. */
function withControl(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(value, fc.oneof(fc.constant('\u0000'), fc.constantFrom(...CONTROL_CHARACTERS)), fc.nat())
    .map(([text, c, at]) => {
      const i = at % (text.length + 1)
      return `${text.slice(0, i)}${c}${text.slice(i)}`
    })
}

function validText(name: string): fc.Arbitrary<string> {
  if (name === 'role') return fc.constantFrom('admin', 'user', 'sip.operator')
  if (name === 'type') return fc.constantFrom('user.login.succeeded', 'user.created', 'x.y')
  return fc.constantFrom('fuzz', 'alice', 'example.com', 'a', 'admin')
}

/** The files `/docs/assets/{file}` serves. */
const DOCS_ASSETS = [
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'favicon-32x32.png',
  'favicon-16x16.png',
  'init.js',
]

/**
 * Operations the document does not list but the app serves; the fuzz attacks them too (their
 * answers are checked for the envelope and the 5xx rule, not against the document).
 */
export const UNDOCUMENTED_OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/docs/assets/{file}',
    operationId: 'docsAsset',
    parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
    body: undefined,
    security: [],
    securityOptional: true,
    statuses: ['200', '404'],
  },
]

/** The document's operations and {@link UNDOCUMENTED_OPERATIONS}. */
export function fuzzOperations(): Operation[] {
  return [...documentOperations(), ...UNDOCUMENTED_OPERATIONS]
}

function pathParam(world: FuzzWorld, op: Operation, name: string): fc.Arbitrary<[string, boolean]> {
  if (name === 'file') {
    const hints = worldHints(world)
    return fc.oneof(
      {
        weight: 4,
        arbitrary: (hints(name, {}) as fc.Arbitrary<string>).map((s): [string, boolean] => [
          encodePathSegment(s),
          false,
        ]),
      },
      {
        weight: 1,
        arbitrary: hostileString().map((s): [string, boolean] => [encodePathSegment(s), false]),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...MALFORMED_SEGMENTS).map((s): [string, boolean] => [s, true]),
      },
    )
  }
  const pool =
    name === 'sid'
      ? () => world.pools.sessionIds
      : name === 'factor_id'
        ? () => world.pools.mfaFactorIds
        : op.path.startsWith('/api-keys/')
          ? () => world.pools.apiKeyIds
          : () => world.pools.userIds
  const encoded = (a: fc.Arbitrary<string>) =>
    a.map((s): [string, boolean] => [encodePathSegment(s), false])
  return fc.oneof(
    { weight: 8, arbitrary: encoded(fromPool(pool)) },
    { weight: 2, arbitrary: encoded(fc.uuid()) },
    { weight: 1, arbitrary: encoded(fromPool(pool).map((id) => id.toUpperCase())) },
    { weight: 2, arbitrary: encoded(hostileString()) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...MALFORMED_SEGMENTS).map((s): [string, boolean] => [s, true]),
    },
  )
}

function queryString(op: Operation, hints: Hints): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === 'query')
  const values = fc.tuple(
    ...params.map((p) =>
      sometimes(anyValue(p.schema, hints, p.name), 50).map((v) => [p.name, v] as const),
    ),
  )
  const extra = sometimes(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...params.map((p) => p.name), 'x', ...PROTOTYPE_KEYS),
        fc.string({ maxLength: 8 }),
      ),
      hostileString(),
    ),
    15,
  )
  // A control character in one of the operation's own parameters, so it passes the name check.
  const control =
    params.length === 0
      ? fc.constant(null)
      : sometimes(fc.tuple(fc.constantFrom(...params.map((p) => p.name)), controlString()), 10)
  const raw = sometimes(
    fc.constantFrom(
      '%',
      '%zz',
      '&&&',
      '=',
      '%E0%A4%A',
      'a[b]=c',
      'limit=1&limit=2',
      '%00=%00',
      '__proto__[admin]=1',
      'constructor=%00',
    ),
    8,
  )
  return fc.tuple(values, extra, control, raw).map(([pairs, more, controlled, tail]) => {
    const search = new URLSearchParams()
    for (const [name, value] of pairs) {
      if (value === null || name === controlled?.[0]) continue
      search.append(name, asText(value))
    }
    if (controlled) search.append(controlled[0], controlled[1])
    if (more) search.append(more[0], more[1])
    const text = [search.toString(), tail ?? ''].filter((s) => s !== '').join('&')
    return text === '' ? '' : `?${text}`
  })
}

function bodyFor(
  op: Operation,
  hints: Hints,
): fc.Arbitrary<{
  body: string | Uint8Array | undefined
  json: unknown
  type: string | undefined
}> {
  const none = fc.constant({ body: undefined, json: undefined, type: undefined })
  if (op.method === 'get') return none
  const fields =
    op.body && typeof op.body.schema === 'object' && typeof op.body.schema.properties === 'object'
      ? Object.keys(op.body.schema.properties as object)
      : []
  const raw = fc
    .tuple(hostileRawBody(fields), contentType())
    .map(([body, type]) => ({ body, json: undefined, type }))
  if (!op.body) {
    return fc.oneof({ weight: 8, arbitrary: none }, { weight: 1, arbitrary: raw })
  }
  const structured = fc
    .tuple(fuzzedObject(op.body.schema, hints), contentType())
    .map(([json, type]) => {
      if (
        type === 'application/x-www-form-urlencoded' &&
        typeof json === 'object' &&
        json !== null
      ) {
        const form = new URLSearchParams()
        for (const [k, v] of Object.entries(json)) form.append(k, asText(v))
        return { body: form.toString(), json, type }
      }
      return { body: JSON.stringify(json), json, type }
    })
  return fc.oneof(
    { weight: 12, arbitrary: structured },
    { weight: 3, arbitrary: raw },
    { weight: 1, arbitrary: none },
  )
}

function authArbitrary(): fc.Arbitrary<FuzzAuth> {
  const credential = fc
    .tuple(
      // Admin credentials more often: most routes are admin-only, and a 403 stops at the door.
      fc.constantFrom<CredentialName>(
        ...CREDENTIALS,
        'admin-token',
        'admin-token',
        'admin-key-star',
      ),
      fc.constantFrom<'bearer' | 'x-api-key'>('bearer', 'bearer', 'x-api-key'),
    )
    .map(
      ([name, via]): FuzzAuth => ({
        kind: 'credential',
        name,
        via: name.includes('-key-') && name !== 'user-key-jwt' ? via : 'bearer',
      }),
    )
  const raw = fc
    .tuple(
      fc.constantFrom<'authorization' | 'x-api-key'>('authorization', 'x-api-key'),
      fc.oneof(
        fc.constantFrom(
          'Basic YWRtaW46YWRtaW4=',
          'Bearer',
          'Bearer ',
          'bearer    x',
          'Bearer a b',
          'Bearer null',
          'Digest username="admin"',
          `Bearer ${'A'.repeat(100_000)}`,
          'Bearer rvoip_ak_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        ),
        hostileString().map((s) => `Bearer ${s}`),
        hostileString(),
      ),
    )
    .map(([header, value]): FuzzAuth => ({ kind: 'raw', header, value: toHeaderValue(value) }))
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<FuzzAuth>({ kind: 'none' }) },
    { weight: 12, arbitrary: credential },
    { weight: 2, arbitrary: raw },
  )
}

function extraHeaders(): fc.Arbitrary<Record<string, string>> {
  const header = (values: fc.Arbitrary<string>) => sometimes(values.map(toHeaderValue), 20)
  return fc
    .record({
      'x-request-id': sometimes(
        fc.oneof(
          fc.uuid(),
          fc.constantFrom('a b', 'x'.repeat(129), 'req-1', '../../x'),
          hostileString(),
        ),
        40,
      ),
      'user-agent': header(fc.oneof(fc.constantFrom('linphone/5.2', 'curl/8'), hostileString())),
      origin: header(fc.constantFrom('https://evil.example', 'null', 'http://localhost:3000')),
      'x-forwarded-for': header(
        fc.oneof(
          fc.constantFrom('1.2.3.4', '1.2.3.4, 10.0.0.1', 'not-an-ip', '::1'),
          hostileString(),
        ),
      ),
      accept: header(fc.constantFrom('text/html', '*/*', 'application/xml', ';;;')),
    })
    .map((record) => {
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(record)) if (v !== null) out[k] = toHeaderValue(v)
      return out
    })
}

/** Requests for one operation. */
export function requestFor(world: FuzzWorld, op: Operation): fc.Arbitrary<FuzzRequest> {
  const hints = worldHints(world)
  const pathParams = op.parameters.filter((p) => p.in === 'path')
  const headerParams = op.parameters.filter((p) => p.in === 'header')
  const path = fc.tuple(...pathParams.map((p) => pathParam(world, op, p.name))).map((values) => {
    let out = op.path
    let hostile = false
    values.forEach(([value, isHostile], i) => {
      out = out.replace(
        `{${(pathParams[i] as { name: string }).name}}`,
        value === '' ? '%20' : value,
      )
      hostile ||= isHostile
    })
    return { path: out, hostile }
  })
  const documentedHeaders = fc
    .tuple(
      ...headerParams.map((p) =>
        sometimes(anyValue(p.schema, hints, p.name), 50).map((v) => [p.name, v] as const),
      ),
    )
    .map((pairs) => {
      const out: Record<string, string> = {}
      for (const [name, v] of pairs)
        if (v !== null) out[name.toLowerCase()] = toHeaderValue(asText(v))
      return out
    })
  return fc
    .record({
      path,
      query: queryString(op, hints),
      body: bodyFor(op, hints),
      auth: authArbitrary(),
      headers: extraHeaders(),
      documentedHeaders,
    })
    .map(({ path, query, body, auth, headers, documentedHeaders }) => ({
      op,
      path: path.path,
      hostilePath: path.hostile,
      query,
      headers: {
        ...headers,
        ...documentedHeaders,
        ...(body.type === undefined || body.body === undefined
          ? {}
          : { 'content-type': toHeaderValue(body.type) }),
      },
      auth,
      body: body.body,
      json: body.json,
    }))
}

/** Requests spread evenly over every operation of the document and the undocumented ones. */
export function anyRequest(
  world: FuzzWorld,
  operations = fuzzOperations(),
): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...operations.map((op) => requestFor(world, op)))
}

/** Builds the `RequestInit` for `app.request()`, resolving the credential now. */
export function toRequestInit(world: FuzzWorld, request: FuzzRequest): RequestInit {
  const headers: Record<string, string> = { ...request.headers }
  const { auth } = request
  if (auth.kind === 'credential') {
    const value = world.credential(auth.name)
    if (auth.via === 'bearer') headers.authorization = `Bearer ${value}`
    else headers['x-api-key'] = value
  } else if (auth.kind === 'raw') {
    headers[auth.header] = auth.value
  }
  return {
    method: request.op.method.toUpperCase(),
    headers,
    ...(request.body === undefined
      ? {}
      : { body: request.body as NonNullable<RequestInit['body']> }),
  }
}

/** A short description of a request for failure messages. */
export function describeRequest(request: FuzzRequest): string {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s)
  const body =
    request.body === undefined
      ? '(none)'
      : typeof request.body === 'string'
        ? cut(JSON.stringify(request.body), 300)
        : `bytes ${cut(Buffer.from(request.body).toString('hex'), 120)}`
  const headers = Object.entries(request.headers)
    .map(([k, v]) => `${k}: ${cut(JSON.stringify(v), 80)}`)
    .join(', ')
  const auth =
    request.auth.kind === 'credential'
      ? `${request.auth.name} via ${request.auth.via}`
      : request.auth.kind === 'raw'
        ? `${request.auth.header}: ${cut(JSON.stringify(request.auth.value), 60)}`
        : 'none'
  return `${request.op.method.toUpperCase()} ${cut(request.path + request.query, 200)}\n  auth: ${auth}\n  headers: ${headers}\n  body: ${body}`
}
