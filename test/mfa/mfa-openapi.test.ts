import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertResponseMatches } from '../helpers/openapi-validator.js'
import { bearer, createTestApp, json, type TestApp, USER_PASSWORD } from '../http/helpers.js'
import { totpAt } from './rfc6238.js'

type Body = Record<string, unknown>
const MISSING_ID = '00000000-0000-4000-8000-000000000000'

// Every MFA route answers what openapi.yaml documents, for its success and its usual failures.
describe('the MFA routes answer as openapi.yaml documents', () => {
  let t: TestApp
  let user: { user: { id: string }; token: string }

  async function call(method: string, path: string, init: RequestInit = {}) {
    const res = await t.app.request(path, { method, ...init })
    const status = res.status
    return { status, body: (await assertResponseMatches(method, path, res)) as Body }
  }
  const send = (method: string, path: string, body: unknown, token?: string) =>
    call(method, path, json(method, body, token ? bearer(token) : {}))

  beforeAll(async () => {
    t = await createTestApp()
    user = await t.createUser('dora')
  })
  afterAll(async () => {
    await t?.close()
  })

  it('enrols, lists, logs in with each step, regenerates and removes', async () => {
    const id = user.user.id
    const base = `/users/${id}/mfa`
    expect((await call('GET', base, { headers: bearer(user.token) })).status).toBe(200)
    expect((await call('GET', base)).status).toBe(401)
    expect((await send('POST', `${base}/totp`, {}, t.adminToken)).status).toBe(403)
    expect((await send('POST', `${base}/totp`, { x: 1 }, user.token)).status).toBe(400)
    expect((await send('POST', `${base}/recovery-codes`, {}, user.token)).status).toBe(409)
    const enrol = await send('POST', `${base}/totp`, {}, user.token)
    expect(enrol.status).toBe(200)
    const secret = enrol.body.secret as string
    expect(
      (await send('POST', `${base}/totp/confirm`, { code: '000000' }, user.token)).status,
    ).toBe(401)
    const confirm = await send(
      'POST',
      `${base}/totp/confirm`,
      { code: totpAt(secret, new Date()) },
      user.token,
    )
    expect(confirm.status).toBe(200)
    expect((await send('POST', `${base}/totp`, {}, user.token)).status).toBe(409)

    const options = await send('POST', `${base}/webauthn/options`, {}, user.token)
    expect(options.status).toBe(200)
    const fakeCredential = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', attestationObject: 'AAAA' },
    }
    const refused = await send('POST', `${base}/webauthn`, { response: fakeCredential }, user.token)
    expect(refused.status).toBe(401)

    const login = await send('POST', '/auth/login', { username: 'dora', password: USER_PASSWORD })
    expect(login.status).toBe(401)
    const details = (login.body.error as Body).details as Body
    const wrong = await send('POST', '/auth/mfa/verify', {
      mfa_token: details.mfa_token,
      method: 'totp',
      code: '000000',
    })
    expect(wrong.status).toBe(401)
    const unknown = await send('POST', '/auth/mfa/verify', {
      mfa_token: 'mfa_nope',
      method: 'totp',
      code: '000000',
    })
    expect(unknown.status).toBe(401)
    expect((await send('POST', '/auth/mfa/verify', { method: 'totp' })).status).toBe(400)
    const verified = await send('POST', '/auth/mfa/verify', {
      mfa_token: details.mfa_token,
      method: 'totp',
      code: totpAt(secret, new Date(Date.now() + 30_000)),
    })
    expect(verified.status).toBe(200)
    const token = verified.body.access_token as string

    expect((await send('POST', `${base}/recovery-codes`, {}, token)).status).toBe(200)
    const status = await call('GET', base, { headers: bearer(t.adminToken) })
    const [factor] = status.body.factors as Body[]
    expect(
      (await call('DELETE', `${base}/factors/${MISSING_ID}`, { headers: bearer(token) })).status,
    ).toBe(404)
    expect(
      (await call('DELETE', `${base}/factors/${factor?.id}`, { headers: bearer(t.adminToken) }))
        .status,
    ).toBe(204)
    expect((await call('DELETE', `${base}/totp`, { headers: bearer(t.adminToken) })).status).toBe(
      404,
    )
  })
})
