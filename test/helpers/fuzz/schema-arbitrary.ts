// fast-check arbitraries from the JSON Schemas of openapi.yaml: values that match a schema, values
// at and just past its edges, and values of the wrong type or hostile content.
import fc from 'fast-check'
import { hostileString, PROTOTYPE_KEYS, wrongTypeValue } from './hostile.js'
import { deref, type Schema } from './operations.js'

/** Field-name hints: arbitraries for values the world knows (usernames, tokens, ids). */
export type Hints = (
  name: string,
  schema: Record<string, unknown>,
) => fc.Arbitrary<unknown> | undefined

/** `arbitrary` in `percent` % of cases, else null (fc.option's `freq` is the inverse odds). */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> {
  return fc.oneof(
    { weight: 100 - percent, arbitrary: fc.constant(null) },
    { weight: percent, arbitrary },
  )
}

/** Marks a property the generator decided to leave out. */
export const ABSENT: unique symbol = Symbol('absent')

type Json = Record<string, unknown>

const FORMAT_PASSWORD = fc
  .tuple(
    fc.constantFrom('Quartz', 'Meadow', 'Zephyr', 'Harbor', 'Copper', 'Violet'),
    fc.stringMatching(/^[a-z]{4,8}$/),
    fc.integer({ min: 10, max: 99 }),
  )
  .map(([word, tail, n]) => `${word}-${tail}-${n}`)

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function types(schema: Json): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[]
  if (typeof schema.type === 'string') return [schema.type]
  if (isObject(schema.properties)) return ['object']
  return []
}

function clip(s: string, max: number | undefined): string {
  if (max === undefined) return s
  const chars = [...s]
  return chars.length > max ? chars.slice(0, max).join('') : s
}

function validString(schema: Json): fc.Arbitrary<string> {
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : undefined
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  switch (schema.format) {
    case 'uuid':
      return fc.uuid()
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString())
    case 'email':
      return fc.emailAddress().filter((e) => e.length <= (max ?? 254))
    case 'password':
      return FORMAT_PASSWORD
  }
  if (typeof schema.pattern === 'string') {
    return fc.stringMatching(new RegExp(schema.pattern, 'u')).map((s) => clip(s, max))
  }
  return fc.string({ minLength: min, maxLength: Math.min(max ?? 40, 60) })
}

/** A value the schema accepts (as far as this generator knows the keywords). */
export function validValue(raw: Schema, hints?: Hints, name = ''): fc.Arbitrary<unknown> {
  const schema = deref(raw)
  if (schema === true) return wrongTypeValue()
  if (schema === false) return fc.constant(null)
  if (hints) {
    const hinted = hints(name, schema)
    if (hinted) return hinted
  }
  if ('const' in schema) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]))
  for (const key of ['oneOf', 'anyOf'] as const) {
    const alternatives = schema[key]
    if (Array.isArray(alternatives) && alternatives.length > 0) {
      return fc.oneof(...alternatives.map((s) => validValue(s as Schema, hints, name)))
    }
  }
  const kinds = types(schema)
  if (kinds.length > 1) {
    return fc.oneof(...kinds.map((type) => validValue({ ...schema, type }, hints, name)))
  }
  switch (kinds[0]) {
    case 'null':
      return fc.constant(null)
    case 'boolean':
      return fc.boolean()
    case 'integer':
      return fc.integer({
        min: typeof schema.minimum === 'number' ? schema.minimum : -1_000_000,
        max: typeof schema.maximum === 'number' ? schema.maximum : 1_000_000,
      })
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true })
    case 'string':
      return validString(schema)
    case 'array': {
      const items = validValue((schema.items ?? true) as Schema, hints, name)
      const constraints = {
        minLength: typeof schema.minItems === 'number' ? schema.minItems : 0,
        maxLength: Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 5, 5),
      }
      return schema.uniqueItems === true
        ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(items, constraints)
    }
    case 'object':
      return objectValue(schema, (s, n) => validValue(s, hints, n), 0)
    default:
      return wrongTypeValue()
  }
}

/** Values just inside and just outside the schema's limits. */
export function boundaryValue(raw: Schema): fc.Arbitrary<unknown> {
  const schema = deref(raw)
  if (typeof schema === 'boolean') return wrongTypeValue()
  const out: unknown[] = []
  const kinds = types(schema)
  if (kinds.includes('string')) {
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : undefined
    const min = typeof schema.minLength === 'number' ? schema.minLength : undefined
    if (max !== undefined) out.push('a'.repeat(max), 'a'.repeat(max + 1), 'é'.repeat(max + 1))
    if (min !== undefined) out.push('a'.repeat(min), 'a'.repeat(Math.max(0, min - 1)))
    out.push('', ' ', 'a')
    if (schema.format === 'uuid') {
      out.push('00000000-0000-0000-0000-000000000000', 'not-a-uuid', `${'f'.repeat(36)}`)
    }
    if (schema.format === 'date-time') {
      out.push('1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T25:61:61Z', '0')
    }
  }
  if (kinds.includes('integer') || kinds.includes('number')) {
    const minimum = typeof schema.minimum === 'number' ? schema.minimum : 0
    const maximum = typeof schema.maximum === 'number' ? schema.maximum : 2 ** 31
    out.push(minimum - 1, minimum, maximum, maximum + 1, 2 ** 53, -(2 ** 53), 0.5, '1', 1e21)
  }
  if (kinds.includes('array')) {
    const maxItems = typeof schema.maxItems === 'number' ? schema.maxItems : 50
    out.push(
      [],
      Array.from({ length: maxItems + 1 }, (_, i) => `r${i}`),
      ['a', 'a'],
    )
  }
  if (kinds.includes('boolean')) out.push('true', 0, 1, 'false')
  if (out.length === 0) out.push(null, '')
  return fc.constantFrom(...out)
}

/** Anything for a field: mostly valid, sometimes at a boundary, hostile or of the wrong type. */
export function anyValue(
  raw: Schema,
  hints?: Hints,
  name = '',
  validWeight = 6,
): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: validWeight, arbitrary: validValue(raw, hints, name) },
    { weight: 1, arbitrary: boundaryValue(raw) },
    { weight: 1, arbitrary: hostileString() },
    { weight: 1, arbitrary: wrongTypeValue() },
  )
}

function objectValue(
  schema: Json,
  field: (schema: Schema, name: string) => fc.Arbitrary<unknown>,
  absentWeight: number,
): fc.Arbitrary<Json> {
  const properties = isObject(schema.properties)
    ? (schema.properties as Record<string, Schema>)
    : {}
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [name, sub] of Object.entries(properties)) {
    const value = field(sub, name)
    model[name] =
      required.has(name) && absentWeight === 0
        ? value
        : fc.oneof(
            { weight: 3, arbitrary: value },
            { weight: required.has(name) ? absentWeight : 2, arbitrary: fc.constant(ABSENT) },
          )
  }
  return fc.record(model).map((record) => {
    const out: Json = {}
    for (const [k, v] of Object.entries(record)) if (v !== ABSENT) out[k] = v
    return out
  })
}

/**
 * A request body for an object schema: each field valid, at a boundary, hostile or mistyped,
 * required ones sometimes missing, and sometimes unknown extra fields.
 */
export function fuzzedObject(raw: Schema, hints?: Hints): fc.Arbitrary<unknown> {
  const schema = deref(raw)
  if (!isObject(schema) || !types(schema).includes('object')) return anyValue(raw, hints)
  const base = objectValue(schema, (s, n) => anyValue(s, hints, n, 12), 1)
  const extras = fc.dictionary(
    fc.oneof(
      fc.constantFrom('admin', 'is_admin', 'id', 'password_hash', 'role', ...PROTOTYPE_KEYS),
      fc.string({ maxLength: 12 }),
    ),
    wrongTypeValue(),
    { maxKeys: 2 },
  )
  return fc
    .tuple(base, sometimes(extras, 15))
    .map(([obj, extra]) => (extra ? { ...extra, ...obj } : obj))
}
