import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { openApiDocument } from '../../src/http/openapi.js'

type Schema = boolean | Record<string, unknown>
type Json = Record<string, unknown>

// The document is registered under this id; a schema's local `#/...` refs are pointed at it.
const DOCUMENT_ID = 'urn:users-core:openapi'

// ajv-formats is not a dependency, so the document's four formats are spelled here.
const FORMATS: Readonly<Record<string, RegExp | true>> = {
  // RFC 3339 in UTC, as SPEC §6 requires of every timestamp.
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:00)$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  password: true,
}

let ajv: Ajv2020 | undefined
const compiled = new WeakMap<object, ValidateFunction>()

function validator(): Ajv2020 {
  if (!ajv) {
    // Unknown keywords and formats stay errors; `allOf`/`not` parts carrying `properties` or
    // `required` without their `type` are idiomatic in the document, so those checks are off.
    ajv = new Ajv2020({
      allErrors: true,
      verbose: true,
      strict: true,
      strictTypes: false,
      strictRequired: false,
    })
    for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format)
    // OpenAPI's top-level members, so the document itself can be the root the refs resolve in.
    ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components', 'tags', 'security'])
    ajv.addSchema(openApiDocument() as Json, DOCUMENT_ID)
  }
  return ajv
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Follows a local `#/a/b` reference in the document. */
export function resolveRef(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`)
  let cur: unknown = openApiDocument()
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (!isObject(cur) || !(key in cur)) throw new Error(`unresolvable $ref ${ref}`)
    cur = cur[key]
  }
  return cur
}

function deref<T>(value: T): T {
  let cur: unknown = value
  for (let i = 0; isObject(cur) && typeof cur.$ref === 'string' && i < 20; i++) {
    cur = resolveRef(cur.$ref)
  }
  return cur as T
}

/** A copy of `schema` whose local refs name the registered document. */
function anchored(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(anchored)
  if (!isObject(schema)) return schema
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#')
        ? [key, `${DOCUMENT_ID}${value}`]
        : [key, anchored(value)],
    ),
  )
}

function compile(schema: Schema): ValidateFunction {
  if (typeof schema === 'boolean') return validator().compile(schema)
  let validate = compiled.get(schema)
  if (!validate) {
    validate = validator().compile(anchored(schema) as Json)
    compiled.set(schema, validate)
  }
  return validate
}

function show(value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function describe(error: ErrorObject, at: string): string {
  const params = error.params as Json
  let detail = ''
  if (error.keyword === 'additionalProperties') detail = ` (${String(params.additionalProperty)})`
  else if (error.keyword === 'const') detail = ` ${show(params.allowedValue)}`
  else if (error.keyword === 'enum') detail = ` ${show(params.allowedValues)}`
  else if (error.keyword === 'oneOf') {
    const passing = params.passingSchemas
    detail = ` (${Array.isArray(passing) ? passing.length : 'none'} match)`
  }
  return `${at}${error.instancePath}: ${error.message}${detail}, got ${show(error.data)}`
}

/**
 * Validates `value` against a schema of the document; returns one message per failure, empty
 * when it matches.
 */
export function validateSchema(schema: Schema, value: unknown, at = '$'): string[] {
  const validate = compile(schema)
  return validate(value) ? [] : (validate.errors ?? []).map((e) => describe(e, at))
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
  const template = findPathTemplate(path)
  if (!template) throw new Error(`openapi.yaml has no path matching ${path}`)
  const item = ((openApiDocument() as Json).paths as Json)[template] as Json
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
  return deref(response)
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
  const content = isObject(response.content) ? response.content : {}
  const media = Object.values(content) as Json[]
  if (media.length === 0) {
    if (body !== undefined && body !== null && body !== '') {
      throw new Error(`${label}: the document says no body, got ${show(body)}`)
    }
    return
  }
  const chosen = (content['application/json'] as Json | undefined) ?? media[0]
  const errors = validateSchema((chosen?.schema as Schema | undefined) ?? true, body)
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
  const label = `${method.toUpperCase()} ${path} ${res.status}`
  const errors: string[] = []
  for (const [name, raw] of Object.entries(isObject(response.headers) ? response.headers : {})) {
    const header = deref(raw as Json)
    const value = res.headers.get(name)
    if (value === null) {
      if (header.required === true) errors.push(`missing header ${name}`)
      continue
    }
    const schema = deref((header.schema ?? true) as Schema)
    const typed = isObject(schema) && schema.type === 'integer' && /^\d+$/.test(value)
    errors.push(...validateSchema(schema, typed ? Number(value) : value, `header ${name}`))
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
