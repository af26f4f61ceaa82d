import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { bearer, createTestApp, json, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ api: { max_body_bytes: 1024, cors_allow_origins: ['*'] } })
})
afterAll(() => t.close())

async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = (await res.json()) as {
    error: { code: string; message: string }
    request_id: string
  }
  expect(body.error.code).toBe(code)
  expect(typeof body.error.message).toBe('string')
  expect(body.request_id).toBe(res.headers.get('x-request-id'))
  return body
}

describe('framework-level errors', () => {
  test('unknown route → 404 NOT_FOUND envelope', async () => {
    await expectEnvelope(await t.app.request('/nope'), 404, 'NOT_FOUND')
  })

  test('wrong method on a known path → 405 with Allow', async () => {
    const res = await t.app.request('/auth/login')
    await expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED')
    expect(res.headers.get('allow')).toContain('POST')
    const put = await t.app.request('/users/me', { method: 'PATCH' })
    await expectEnvelope(put, 405, 'METHOD_NOT_ALLOWED')
    expect(put.headers.get('allow')?.split(', ')).toEqual(
      expect.arrayContaining(['GET', 'PUT', 'DELETE', 'HEAD']),
    )
  })

  test('plain OPTIONS on a known path answers 204 with Allow', async () => {
    const res = await t.app.request('/auth/jwks.json', { method: 'OPTIONS' })
    expect(res.status).toBe(204)
    expect(res.headers.get('allow')).toContain('GET')
  })

  test('malformed JSON → 400 VALIDATION_ERROR', async () => {
    const res = await t.app.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username": ',
    })
    await expectEnvelope(res, 400, 'VALIDATION_ERROR')
  })

  test('non-JSON content type → 415', async () => {
    const res = await t.app.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'username=a',
    })
    await expectEnvelope(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
  })

  test('body over max_body_bytes → 413, by Content-Length and while reading', async () => {
    const big = JSON.stringify({ username: 'x'.repeat(2000), password: 'y' })
    const declared = await t.app.request(
      '/auth/login',
      json('POST', JSON.parse(big), { 'content-length': String(big.length) }),
    )
    await expectEnvelope(declared, 413, 'PAYLOAD_TOO_LARGE')
    // A stream has no Content-Length: the limit is enforced by counting.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(500)))
        controller.close()
      },
    })
    const res = await t.app.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    await expectEnvelope(res, 413, 'PAYLOAD_TOO_LARGE')
  })

  test('unknown, missing and wrong-typed fields are all listed', async () => {
    const res = await t.app.request(
      '/users',
      json('POST', { username: 42, extra: true, roles: 'admin' }, bearer(t.adminToken)),
    )
    const body = (await expectEnvelope(res, 400, 'VALIDATION_ERROR')) as unknown as {
      error: { details: { fields: { field: string; message: string }[] } }
    }
    const fields = body.error.details.fields.map((f) => f.field).sort()
    expect(fields).toEqual(['extra', 'password', 'roles', 'username'])
    expect(body.error.details.fields.find((f) => f.field === 'password')?.message).toBe(
      'is required',
    )
  })

  test('JSON that is not an object is a validation error, not a 500', async () => {
    for (const body of ['[]', 'null', '"x"', '12']) {
      const res = await t.app.request('/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      await expectEnvelope(res, 400, 'VALIDATION_ERROR')
    }
  })

  test('an unexpected error is a 500 revealing only the request id', async () => {
    const broken: UsersCore = {
      ...t.core,
      jwks: () => Promise.reject(new Error('secret internals /etc/passwd')),
    }
    const app = createApp(broken, { logger: createLogger('silent') })
    const res = await app.request('/auth/jwks.json')
    const body = await expectEnvelope(res, 500, 'INTERNAL_ERROR')
    expect(JSON.stringify(body)).not.toContain('secret')
  })
})

describe('request id', () => {
  test('a sane X-Request-Id is echoed in the header and error body', async () => {
    const res = await t.app.request('/nope', { headers: { 'x-request-id': 'abc-123_DEF.4' } })
    expect(res.headers.get('x-request-id')).toBe('abc-123_DEF.4')
    expect(((await res.json()) as { request_id: string }).request_id).toBe('abc-123_DEF.4')
  })

  test('an insane one is replaced by a UUID', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'quote"', 'a\tb']) {
      const res = await t.app.request('/health', { headers: { 'x-request-id': bad } })
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})

describe('headers', () => {
  const security = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  }

  test('security headers on successes and errors; no HSTS over plain HTTP', async () => {
    for (const path of ['/health', '/nope', '/users']) {
      const res = await t.app.request(path)
      for (const [name, value] of Object.entries(security)) {
        expect(res.headers.get(name), `${path} ${name}`).toBe(value)
      }
      expect(res.headers.get('strict-transport-security')).toBe(null)
    }
  })

  test('HSTS over HTTPS', async () => {
    const res = await t.app.request('https://users.example/health')
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/)
  })

  test('Cache-Control: no-store on authenticated responses and errors', async () => {
    const me = await t.app.request('/users/me', { headers: bearer(t.adminToken) })
    expect(me.headers.get('cache-control')).toBe('no-store')
    const err = await t.app.request('/users/me')
    expect(err.headers.get('cache-control')).toBe('no-store')
  })

  test('401 carries WWW-Authenticate, with invalid_token when a token was sent', async () => {
    const none = await t.app.request('/users/me')
    await expectEnvelope(none, 401, 'UNAUTHORIZED')
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(none.headers.get('www-authenticate')).not.toContain('invalid_token')
    const bad = await t.app.request('/users/me', { headers: bearer('garbage') })
    await expectEnvelope(bad, 401, 'UNAUTHORIZED')
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"')
    const basic = await t.app.request('/users/me', { headers: { authorization: 'Basic YTpi' } })
    await expectEnvelope(basic, 401, 'UNAUTHORIZED')
    const key = await t.app.request('/users/me', { headers: { 'x-api-key': 'rvoip_ak_live_nope' } })
    await expectEnvelope(key, 401, 'UNAUTHORIZED')
  })
})

describe('CORS', () => {
  test('preflight answers 204 with the allowed methods and headers', async () => {
    const res = await t.app.request('/users', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toContain('POST')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization',
    )
  })

  test('errors carry CORS headers and expose the documented headers', async () => {
    const res = await t.app.request('/nope', { headers: { origin: 'https://app.example' } })
    expect(res.status).toBe(404)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const exposed = res.headers.get('access-control-expose-headers') ?? ''
    for (const h of ['Retry-After', 'X-Request-Id', 'Link', 'X-Total-Count']) {
      expect(exposed).toContain(h)
    }
  })

  test('an origin list echoes allowed origins only; [] disables CORS', async () => {
    const listed = await createTestApp({ api: { cors_allow_origins: ['https://ok.example'] } })
    const off = await createTestApp({ api: { cors_allow_origins: [] } })
    try {
      const ok = await listed.app.request('/health', { headers: { origin: 'https://ok.example' } })
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://ok.example')
      expect(ok.headers.get('vary')).toContain('Origin')
      const other = await listed.app.request('/health', { headers: { origin: 'https://evil' } })
      expect(other.headers.get('access-control-allow-origin')).toBe(null)
      const disabled = await off.app.request('/health', { headers: { origin: 'https://x' } })
      expect(disabled.headers.get('access-control-allow-origin')).toBe(null)
    } finally {
      await listed.close()
      await off.close()
    }
  })
})
