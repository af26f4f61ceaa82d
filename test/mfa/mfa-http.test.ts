import { Writable } from 'node:stream'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/lib/logger.js'
import {
  bearer,
  createTestApp,
  json,
  socketFrom,
  type TestApp,
  USER_PASSWORD,
} from '../http/helpers.js'
import { totpAt } from './rfc6238.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read ad hoc in assertions
type Json = Record<string, any>

describe('MFA over HTTP', () => {
  let t: TestApp
  let userId: string
  let token: string
  let secret: string

  const req = (path: string, init: RequestInit, ip = '192.0.2.20') =>
    t.app.request(path, init, socketFrom(ip))

  beforeEach(async () => {
    t = await createTestApp()
    const created = await t.createUser('bob')
    userId = created.user.id
    token = created.token
    const enrol = await req(`/users/${userId}/mfa/totp`, json('POST', {}, bearer(token)))
    expect(enrol.status).toBe(200)
    const body = (await enrol.json()) as Json
    secret = body.secret
    expect(body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/RVoIP:bob\?/)
    const confirm = await req(
      `/users/${userId}/mfa/totp/confirm`,
      json('POST', { code: totpAt(secret, new Date()) }, bearer(token)),
    )
    expect(confirm.status).toBe(200)
    expect(((await confirm.json()) as Json).recovery_codes).toHaveLength(10)
  })
  afterEach(() => t.close())

  async function challenge(ip = '192.0.2.20'): Promise<Json> {
    const res = await req(
      '/auth/login',
      json('POST', { username: 'bob', password: USER_PASSWORD }),
      ip,
    )
    expect(res.status).toBe(401)
    const body = (await res.json()) as Json
    expect(body.error.code).toBe('MFA_REQUIRED')
    expect(body).not.toHaveProperty('access_token')
    expect(res.headers.get('cache-control')).toBe('no-store')
    return body.error.details
  }

  it('logs in with password then a recovery code, answering the SPEC token response', async () => {
    const regenerate = await req(
      `/users/${userId}/mfa/recovery-codes`,
      json('POST', {}, bearer(token)),
    )
    expect(regenerate.status).toBe(200)
    const [code] = ((await regenerate.json()) as Json).recovery_codes
    const details = await challenge()
    expect(details.methods).toEqual(['totp', 'recovery_code'])
    const res = await req(
      '/auth/mfa/verify',
      json('POST', { mfa_token: details.mfa_token, method: 'recovery_code', code }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as Json
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_expires_in',
      'refresh_token',
      'scope',
      'token_type',
      'user',
    ])
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(await t.core.jwks()))
    expect(payload.amr).toEqual(['pwd', 'otp'])
    // Refresh keeps the session's amr.
    const refreshed = await req(
      '/auth/refresh',
      json('POST', { refresh_token: body.refresh_token }),
    )
    const again = await jwtVerify(
      ((await refreshed.json()) as Json).access_token,
      createLocalJWKSet(await t.core.jwks()),
    )
    expect(again.payload.amr).toEqual(['pwd', 'otp'])
  })

  it('lets exactly one of two parallel verifies with one mfa_token succeed', async () => {
    const details = await challenge()
    const code = totpAt(secret, new Date(Date.now() + 30_000))
    const send = () =>
      req('/auth/mfa/verify', json('POST', { mfa_token: details.mfa_token, method: 'totp', code }))
    const statuses = (await Promise.all([send(), send(), send()])).map((r) => r.status).sort()
    expect(statuses).toEqual([200, 401, 401])
  })

  it('refuses a wrong code with INVALID_CREDENTIALS and a token from another IP with INVALID_TOKEN', async () => {
    const details = await challenge()
    const wrong = await req(
      '/auth/mfa/verify',
      json('POST', { mfa_token: details.mfa_token, method: 'totp', code: '12345' }),
    )
    expect(wrong.status).toBe(401)
    expect(((await wrong.json()) as Json).error.code).toBe('INVALID_CREDENTIALS')
    const elsewhere = await req(
      '/auth/mfa/verify',
      json('POST', { mfa_token: details.mfa_token, method: 'totp', code: '123456' }),
      '198.51.100.9',
    )
    expect(((await elsewhere.json()) as Json).error.code).toBe('INVALID_TOKEN')
    const bad = await req(
      '/auth/mfa/verify',
      json('POST', { mfa_token: 'x', method: 'sms', code: '1' }),
    )
    expect(bad.status).toBe(400)
  })

  it('lists factors without secrets; admins may remove (audited) but not enrol', async () => {
    const list = await req(`/users/${userId}/mfa`, { headers: bearer(t.adminToken) })
    const body = (await list.json()) as Json
    expect(body).toMatchObject({ enabled: true, recovery_codes_remaining: 10 })
    expect(body.factors).toHaveLength(1)
    expect(JSON.stringify(body)).not.toContain(secret)
    expect(Object.keys(body.factors[0]).sort()).toEqual([
      'created_at',
      'id',
      'last_used_at',
      'name',
      'type',
    ])

    const enrolByAdmin = await req(
      `/users/${userId}/mfa/totp`,
      json('POST', {}, bearer(t.adminToken)),
    )
    expect(enrolByAdmin.status).toBe(403)
    const other = await t.createUser('carol')
    const enrolOther = await req(`/users/${userId}/mfa/totp`, json('POST', {}, bearer(other.token)))
    expect(enrolOther.status).toBe(403)
    const readOther = await req(`/users/${userId}/mfa`, { headers: bearer(other.token) })
    expect(readOther.status).toBe(403)

    const removed = await req(`/users/${userId}/mfa/factors/${body.factors[0].id}`, {
      method: 'DELETE',
      headers: bearer(t.adminToken),
    })
    expect(removed.status).toBe(204)
    // MFA is off: the password alone logs in again, and the user's sessions were revoked.
    const me = await req('/users/me', { headers: bearer(token) })
    expect(me.status).toBe(401)
    await t.login('bob', USER_PASSWORD)
    const events = await t.core.audit.list({ userId, type: 'mfa.removed' })
    expect(events.items[0]?.actor).toEqual({ type: 'user', id: t.admin.id })
  })

  it('refuses a second TOTP while one is confirmed', async () => {
    const res = await req(`/users/${userId}/mfa/totp`, json('POST', {}, bearer(token)))
    expect(res.status).toBe(409)
  })
})

describe('MFA secrets in logs', () => {
  it('redacts an mfa_token, a TOTP secret and recovery codes wherever a log line carries them', async () => {
    const lines: string[] = []
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk))
          done()
        },
      }),
    )
    logger.info({
      mfa_token: 'mfa_leak1',
      details: { mfa_token: 'mfa_leak2' },
      body: { secret: 'JBSWY3DPLEAK', recovery_codes: ['leak-leak-leak-leak'] },
    })
    expect(lines.join('')).not.toMatch(/leak/i)
  })
})
