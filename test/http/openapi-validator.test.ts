import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../src/http/openapi.js'
import {
  assertMatchesSchema,
  assertResponseMatches,
  findPathTemplate,
  resolveRef,
  validateSchema,
} from '../helpers/openapi-validator.js'

type Json = Record<string, unknown>
const doc = openApiDocument() as Json

const user = {
  id: '3f2b8c1e-6d4a-4b7e-9c5f-1a2b3c4d5e6f',
  username: 'alice',
  email: null,
  display_name: null,
  roles: ['user'],
  active: true,
  created_at: '2025-01-15T09:00:00.000Z',
  updated_at: '2025-01-15T09:00:00Z',
  last_login: null,
}
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** Every (schema, example) pair in the document, wherever a media type has both. */
function examplePairs(): Array<{ where: string; schema: Json; value: unknown }> {
  const pairs: Array<{ where: string; schema: Json; value: unknown }> = []
  const visit = (node: unknown, where: string) => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) visit(n, `${where}[${i}]`)
    }
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return
    const obj = node as Json
    if (obj.schema && obj.examples && typeof obj.examples === 'object') {
      for (const [name, raw] of Object.entries(obj.examples as Json)) {
        const ex = (raw as Json).$ref ? (resolveRef((raw as Json).$ref as string) as Json) : raw
        pairs.push({
          where: `${where} example ${name}`,
          schema: obj.schema as Json,
          value: (ex as Json).value,
        })
      }
    }
    for (const [k, v] of Object.entries(obj)) visit(v, `${where}/${k}`)
  }
  visit(doc.paths, '#/paths')
  visit((doc.components as Json).responses, '#/components/responses')
  return pairs
}

describe('openapi validator', () => {
  it('accepts every example the document gives', () => {
    const pairs = examplePairs()
    expect(pairs.length).toBeGreaterThan(20)
    for (const { where, schema, value } of pairs) {
      expect(validateSchema(schema, value), where).toEqual([])
    }
  })

  it('accepts a valid user and rejects each kind of drift', () => {
    expect(validateSchema(ref('User'), user)).toEqual([])
    const { email: _, ...missing } = user
    expect(validateSchema(ref('User'), missing).join()).toMatch(
      /must have required property 'email'/,
    )
    expect(validateSchema(ref('User'), { ...user, password_hash: 'x' }).join()).toMatch(
      /must NOT have additional properties \(password_hash\)/,
    )
    expect(validateSchema(ref('User'), { ...user, active: 'yes' }).join()).toMatch(
      /active: must be boolean/,
    )
    expect(validateSchema(ref('User'), { ...user, username: 'a b' }).join()).toMatch(
      /username: must match pattern/,
    )
    expect(validateSchema(ref('User'), { ...user, id: 'nope' }).join()).toMatch(
      /id: must match format "uuid"/,
    )
    expect(validateSchema(ref('User'), { ...user, created_at: '2025-01-15' }).join()).toMatch(
      /created_at: must match format "date-time"/,
    )
    expect(validateSchema(ref('User'), { ...user, roles: ['Admin'] }).join()).toMatch(
      /roles\/0: must match pattern/,
    )
    const many = Array.from({ length: 21 }, (_, i) => `r${i}`)
    expect(validateSchema(ref('User'), { ...user, roles: many }).join()).toMatch(
      /more than 20 items/,
    )
    expect(validateSchema(ref('User'), { ...user, display_name: 'x'.repeat(101) }).join()).toMatch(
      /more than 100 characters/,
    )
    expect(validateSchema(ref('User'), { ...user, display_name: '<b>' }).join()).toMatch(
      /display_name: must match pattern/,
    )
  })

  it('handles oneOf, const and the nullable type arrays', () => {
    expect(validateSchema(ref('Introspection'), { active: false })).toEqual([])
    expect(validateSchema(ref('Introspection'), { active: true }).join()).toMatch(
      /oneOf \(none match\)/,
    )
    expect(validateSchema(ref('Introspection'), { active: false, sub: 'x' }).join()).toMatch(
      /oneOf \(none match\)/,
    )
    expect(validateSchema({ type: ['string', 'null'] }, null)).toEqual([])
    expect(validateSchema({ type: ['string', 'null'] }, 1).join()).toMatch(/must be string,null/)
    expect(validateSchema({ type: 'integer' }, 1.5).join()).toMatch(/must be integer/)
    expect(validateSchema({ type: 'number' }, 2)).toEqual([])
    expect(validateSchema({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 2).join()).toMatch(
      /oneOf \(2 match\)/,
    )
  })

  it('rejects a JWK carrying private members', () => {
    const jwk = { kty: 'OKP', kid: 'k', use: 'sig', alg: 'EdDSA', crv: 'Ed25519', x: 'AAAA' }
    expect(validateSchema(ref('Jwk'), jwk)).toEqual([])
    expect(validateSchema(ref('Jwk'), { ...jwk, d: 'secret' }).join()).toMatch(/must NOT be valid/)
  })

  it('pins error bodies to the codes of their status', () => {
    const body = (code: string) => ({ error: { code, message: 'm' }, request_id: 'r' })
    expect(() => assertMatchesSchema('GET', '/users/me', 401, body('UNAUTHORIZED'))).not.toThrow()
    expect(() => assertMatchesSchema('GET', '/users/me', 401, body('INVALID_TOKEN'))).toThrow(
      /constant "UNAUTHORIZED", got "INVALID_TOKEN"/,
    )
    expect(() =>
      assertMatchesSchema('POST', '/auth/login', 429, body('ACCOUNT_LOCKED')),
    ).not.toThrow()
    expect(() => assertMatchesSchema('POST', '/users', 400, body('WEAK_PASSWORD'))).toThrow(
      /required property 'details'/,
    )
    const weak = {
      error: { code: 'WEAK_PASSWORD', message: 'm', details: { rules: ['min_length'] } },
      request_id: 'r',
    }
    expect(() => assertMatchesSchema('POST', '/users', 400, weak)).not.toThrow()
    expect(() => assertMatchesSchema('GET', '/users/me', 400, body('VALIDATION_ERROR'))).toThrow(
      /documents no 400/,
    )
  })

  it('matches concrete paths to templates, literal segments first', () => {
    expect(findPathTemplate('/users/me')).toBe('/users/me')
    expect(findPathTemplate(`/users/${user.id}?x=1`)).toBe('/users/{id}')
    expect(findPathTemplate(`/users/${user.id}/sessions/${user.id}`)).toBe(
      '/users/{id}/sessions/{sid}',
    )
    expect(findPathTemplate('/nope')).toBeUndefined()
    expect(() => assertMatchesSchema('GET', `/users/${user.id}`, 200, user)).not.toThrow()
    expect(() => assertMatchesSchema('DELETE', `/users/${user.id}`, 204, undefined)).not.toThrow()
    expect(() => assertMatchesSchema('DELETE', `/users/${user.id}`, 204, { x: 1 })).toThrow(
      /no body/,
    )
    expect(() => assertMatchesSchema('PATCH', '/users/me', 200, user)).toThrow(/no PATCH/)
  })

  it('checks the headers of a whole Response', async () => {
    const headers = { 'content-type': 'application/json', 'x-request-id': 'r1' }
    const unauthorized = JSON.stringify({
      error: { code: 'UNAUTHORIZED', message: 'm' },
      request_id: 'r1',
    })
    await expect(
      assertResponseMatches(
        'GET',
        '/users/me',
        new Response(unauthorized, { status: 401, headers }),
      ),
    ).rejects.toThrow(/missing header WWW-Authenticate/)
    const ok = new Response(unauthorized, {
      status: 401,
      headers: { ...headers, 'www-authenticate': 'Bearer realm="users-core"' },
    })
    await expect(assertResponseMatches('GET', '/users/me', ok)).resolves.toMatchObject({
      request_id: 'r1',
    })
    const page = new Response(JSON.stringify([user]), {
      status: 200,
      headers: { ...headers, 'cache-control': 'no-store', 'x-total-count': 'many' },
    })
    await expect(assertResponseMatches('GET', '/users', page)).rejects.toThrow(/X-Total-Count/)
  })
})
