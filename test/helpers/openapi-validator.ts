import { openApiDocument } from '../../src/http/openapi.js'

// A compact validator for the JSON Schema subset openapi.yaml uses (no ajv in the tree, and a
// dependency for tests alone is not worth it). Keywords it does not know are ignored, so keep
// the document to: type (incl. arrays), properties, required, additionalProperties,
// items, enum, const, pattern, format (date-time, uuid, email), minimum/maximum,
// minItems/maxItems, uniqueItems, minLength/maxLength, allOf/oneOf/anyOf/not, local $ref.

type Schema = boolean | Record<string, unknown>
type Json = Record<string, unknown>

const FORMATS: Readonly<Record<string, RegExp>> = {
  // RFC 3339 in UTC, as SPEC §6 requires of every timestamp.
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:00)$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
}

const patterns = new Map<string, RegExp>()

function regex(pattern: string): RegExp {
  let re = patterns.get(pattern)
  if (!re) {
    re = new RegExp(pattern, 'u')
    patterns.set(pattern, re)
  }
  return re
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Follows a local `#/a/b` reference in the document. */
export function resolveRef(ref: string, root: Json = openApiDocument() as Json): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`)
  let cur: unknown = root
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (!isObject(cur) || !(key in cur)) throw new Error(`unresolvable $ref ${ref}`)
    cur = cur[key]
  }
  return cur
}

function deref<T>(value: T, root: Json): T {
  let cur: unknown = value
  for (let i = 0; isObject(cur) && typeof cur.$ref === 'string' && i < 20; i++) {
    cur = resolveRef(cur.$ref, root)
  }
  return cur as T
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value)
  return actual === type || (type === 'number' && actual === 'integer')
}

function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/**
 * Validates `value` against a schema of the document; returns one message per failure, empty
 * when it matches.
 */
export function validateSchema(
  schema: Schema,
  value: unknown,
  at = '$',
  root: Json = openApiDocument() as Json,
): string[] {
  if (schema === true) return []
  if (schema === false) return [`${at}: no value is allowed here`]
  const errors: string[] = []
  const fail = (message: string) => errors.push(`${at}: ${message}`)

  if (typeof schema.$ref === 'string') {
    errors.push(...validateSchema(resolveRef(schema.$ref, root) as Schema, value, at, root))
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string]
    if (!types.some((t) => matchesType(value, t))) {
      fail(`expected ${types.join(' | ')}, got ${typeOf(value)} ${show(value)}`)
      return errors
    }
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    fail(`expected ${show(schema.const)}, got ${show(value)}`)
  }
  if (Array.isArray(schema.enum)) {
    const options = schema.enum.map((v) => JSON.stringify(v))
    if (!options.includes(JSON.stringify(value))) {
      fail(`${show(value)} is not one of ${options.join(', ')}`)
    }
  }

  if (typeof value === 'string') {
    const length = [...value].length
    if (typeof schema.minLength === 'number' && length < schema.minLength) {
      fail(`shorter than ${schema.minLength}`)
    }
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
      fail(`longer than ${schema.maxLength}`)
    }
    if (typeof schema.pattern === 'string' && !regex(schema.pattern).test(value)) {
      fail(`${show(value)} does not match ${schema.pattern}`)
    }
    const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined
    if (format && !format.test(value)) fail(`${show(value)} is not a ${schema.format}`)
  }

  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) {
      fail(`${value} < minimum ${schema.minimum}`)
    }
    if (typeof schema.maximum === 'number' && value > schema.maximum) {
      fail(`${value} > maximum ${schema.maximum}`)
    }
  }

  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      fail(`fewer than ${schema.minItems} items`)
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      fail(`more than ${schema.maxItems} items`)
    }
    if (schema.uniqueItems === true) {
      const seen = new Set(value.map((v) => JSON.stringify(v)))
      if (seen.size !== value.length) fail('items are not unique')
    }
    if (schema.items !== undefined) {
      value.forEach((item, i) => {
        errors.push(...validateSchema(schema.items as Schema, item, `${at}[${i}]`, root))
      })
    }
  }

  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : {}
    if (Array.isArray(schema.required)) {
      for (const key of schema.required as string[]) {
        if (!(key in value)) fail(`missing required property ${key}`)
      }
    }
    for (const [key, v] of Object.entries(value)) {
      const sub = properties[key] as Schema | undefined
      if (sub !== undefined) errors.push(...validateSchema(sub, v, `${at}.${key}`, root))
      else if (schema.additionalProperties === false) fail(`unexpected property ${key}`)
      else if (isObject(schema.additionalProperties)) {
        errors.push(...validateSchema(schema.additionalProperties, v, `${at}.${key}`, root))
      }
    }
  }

  if (Array.isArray(schema.allOf)) {
    for (const sub of schema.allOf as Schema[]) errors.push(...validateSchema(sub, value, at, root))
  }
  if (Array.isArray(schema.anyOf)) {
    const results = (schema.anyOf as Schema[]).map((s) => validateSchema(s, value, at, root))
    if (!results.some((r) => r.length === 0)) {
      fail(`matches none of anyOf:\n  ${results.map((r) => r.join('; ')).join('\n  ')}`)
    }
  }
  if (Array.isArray(schema.oneOf)) {
    const results = (schema.oneOf as Schema[]).map((s) => validateSchema(s, value, at, root))
    const matched = results.filter((r) => r.length === 0).length
    if (matched === 0) {
      fail(`matches none of oneOf:\n  ${results.map((r) => r.join('; ')).join('\n  ')}`)
    } else if (matched > 1) fail(`matches ${matched} schemas of oneOf, expected exactly one`)
  }
  if (
    schema.not !== undefined &&
    validateSchema(schema.not as Schema, value, at, root).length === 0
  ) {
    fail('matches a schema it must not match')
  }
  return errors
}

/** Turns a concrete request path (`/users/3f2b...?limit=1`) into the document's template. */
export function findPathTemplate(path: string): string | undefined {
  const paths = (openApiDocument() as Json).paths as Json
  const bare = path.split(/[?#]/)[0] ?? path
  if (bare in paths) return bare
  const segments = bare.split('/')
  const candidates = Object.keys(paths).filter((template) => {
    const parts = template.split('/')
    return (
      parts.length === segments.length &&
      parts.every((p, i) => (p.startsWith('{') && p.endsWith('}')) || p === segments[i])
    )
  })
  // The most literal template wins: /users/me before /users/{id}.
  const literal = (t: string) => t.split('/').filter((p) => !p.startsWith('{')).length
  return candidates.sort((a, b) => literal(b) - literal(a))[0]
}

/** The response object the document gives for (method, path, status), or why there is none. */
export function responseFor(method: string, path: string, status: number): Json {
  const root = openApiDocument() as Json
  const template = findPathTemplate(path)
  if (!template) throw new Error(`openapi.yaml has no path matching ${path}`)
  const item = (root.paths as Json)[template] as Json
  const operation = item[method.toLowerCase()]
  if (!isObject(operation)) {
    throw new Error(`openapi.yaml has no ${method.toUpperCase()} ${template}`)
  }
  const responses = operation.responses as Json
  const response =
    responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default
  if (!isObject(response)) {
    throw new Error(
      `openapi.yaml documents no ${status} for ${method.toUpperCase()} ${template} ` +
        `(documented: ${Object.keys(responses).join(', ')})`,
    )
  }
  return deref(response, root)
}

function mediaSchema(response: Json, contentType: string): Schema | undefined {
  const content = response.content
  if (!isObject(content)) return undefined
  const media = content[contentType.split(';')[0]?.trim() ?? contentType]
  return isObject(media) ? ((media.schema as Schema | undefined) ?? true) : undefined
}

/**
 * Throws unless `body` (parsed JSON, or text for text/* media, `undefined`/'' for no content)
 * matches what the document says (method, path, status) answers. `path` may be a template
 * (`/users/{id}`) or a concrete path (`/users/3f2b...`).
 */
export function assertMatchesSchema(
  method: string,
  path: string,
  status: number,
  body: unknown,
): void {
  const response = responseFor(method, path, status)
  const label = `${method.toUpperCase()} ${path} ${status}`
  const content = isObject(response.content) ? response.content : undefined
  if (!content || Object.keys(content).length === 0) {
    if (body !== undefined && body !== null && body !== '') {
      throw new Error(`${label}: the document says no body, got ${show(body)}`)
    }
    return
  }
  const json = mediaSchema(response, 'application/json')
  const schema = json ?? Object.values(content).map((m) => (m as Json).schema as Schema)[0] ?? true
  const errors = validateSchema(schema, body)
  if (errors.length > 0) {
    throw new Error(`${label}: body does not match openapi.yaml:\n${errors.join('\n')}`)
  }
}

/**
 * Checks a whole `Response` against the document: a documented status, the content type, every
 * required header (and its schema), and the body. Consumes the body; returns it parsed.
 */
export async function assertResponseMatches(
  method: string,
  path: string,
  res: Response,
): Promise<unknown> {
  const response = responseFor(method, path, res.status)
  const root = openApiDocument() as Json
  const label = `${method.toUpperCase()} ${path} ${res.status}`
  const errors: string[] = []
  for (const [name, raw] of Object.entries(isObject(response.headers) ? response.headers : {})) {
    const header = deref(raw as Json, root)
    const value = res.headers.get(name)
    if (value === null) {
      if (header.required === true) errors.push(`missing header ${name}`)
      continue
    }
    const schema = deref((header.schema ?? true) as Schema, root)
    const typed = isObject(schema) && schema.type === 'integer' && /^\d+$/.test(value)
    errors.push(...validateSchema(schema, typed ? Number(value) : value, `header ${name}`, root))
  }
  const text = await res.text()
  const contentType = res.headers.get('content-type') ?? ''
  const content = isObject(response.content) ? response.content : {}
  let body: unknown = text === '' ? undefined : text
  if (Object.keys(content).length > 0) {
    const media = contentType.split(';')[0]?.trim() ?? ''
    if (!(media in content)) {
      errors.push(`content type ${contentType || '(none)'} is not one of ${Object.keys(content)}`)
    } else if (media === 'application/json') {
      try {
        body = JSON.parse(text)
      } catch {
        errors.push(`body is not JSON: ${show(text)}`)
      }
    }
  }
  if (errors.length > 0) throw new Error(`${label}: ${errors.join('\n')}`)
  assertMatchesSchema(method, path, res.status, body)
  return body
}
