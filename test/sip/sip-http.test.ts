import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { init } from '../../src/core.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/lib/logger.js'
import { type Random, secureRandom } from '../../src/lib/random.js'
import {
  computeHa1,
  type DigestAlgorithm,
  expectedResponse,
  HA1_ALGORITHMS,
} from '../../src/sip/digest.js'
import { assertResponseMatches } from '../helpers/openapi-validator.js'
import { bearer, createTestApp, json, type TestApp, testConfig } from '../http/helpers.js'

type Digest = Record<string, unknown>

/** A digest answer a phone holding `secret` would send for `sipUsername`. */
function answer(
  sipUsername: string,
  secret: string,
  overrides: Digest = {},
  realm = 'rvoip',
): Digest {
  const fields = {
    username: sipUsername,
    realm,
    method: 'REGISTER',
    uri: 'sip:rvoip.local',
    nonce: 'bm9uY2UtMTIz',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'Y25vbmNl',
    algorithm: 'MD5' as DigestAlgorithm,
    ...overrides,
  }
  const name = String(fields.username)
  const base = fields.algorithm.replace(/-sess$/, '') as (typeof HA1_ALGORITHMS)[number]
  const ha1 = computeHa1(base, name, realm, secret)
  return { ...fields, response: expectedResponse(ha1, fields) }
}

describe('SIP credentials over REST', () => {
  let t: TestApp
  let alice: { id: string; token: string }
  let sipKey: string

  const create = async (token: string, userId: string, body: unknown) =>
    t.app.request(`/users/${userId}/sip-credentials`, json('POST', body, bearer(token)))
  const verify = async (body: unknown, key = sipKey) =>
    t.app.request('/sip/digest/verify', json('POST', body, { 'x-api-key': key }))
  const newCredential = async (label = 'desk') => {
    const res = await create(alice.token, alice.id, { label })
    expect(res.status).toBe(201)
    return (await res.json()) as { credential: Record<string, unknown>; secret: string }
  }

  beforeEach(async () => {
    t = await createTestApp({ sip: { max_failed_auths: 3 } })
    const created = await t.createUser('alice')
    alice = { id: created.user.id, token: created.token }
    const registrar = await t.createUser('registrar')
    sipKey = await t.createKey(registrar.user.id, ['sip'])
  })
  afterEach(() => t.close())

  test('every SIP route answers as openapi.yaml documents', async () => {
    const adminSipKey = await t.createKey(t.admin.id, ['sip'])
    const check = async (method: string, path: string, init: RequestInit, status: number) => {
      const res = await t.app.request(path, { method, ...init })
      expect(res.status, `${method} ${path}`).toBe(status)
      return (await assertResponseMatches(method, path, res)) as Record<string, never>
    }
    const createPath = `/users/${alice.id}/sip-credentials`
    const created = await check(
      'POST',
      createPath,
      json('POST', { label: 'desk' }, bearer(alice.token)),
      201,
    )
    await check('POST', createPath, json('POST', { label: 'desk' }, bearer(alice.token)), 409)
    await check('POST', createPath, json('POST', { label: '' }, bearer(alice.token)), 400)
    await check('GET', createPath, { headers: bearer(alice.token) }, 200)
    const secret = (created as unknown as { secret: string }).secret
    const verifyInit = (body: Digest, key = sipKey) => json('POST', body, { 'x-api-key': key })
    await check('POST', '/sip/digest/verify', verifyInit(answer('alice-desk', secret)), 200)
    await check('POST', '/sip/digest/verify', verifyInit(answer('alice-desk', 'wrong')), 200)
    await check('POST', '/sip/digest/verify', verifyInit({ username: 'x' }), 400)
    await check(
      'POST',
      '/sip/digest/verify',
      json('POST', answer('alice-desk', secret), bearer(alice.token)),
      403,
    )
    await check(
      'GET',
      '/sip/ha1?username=alice-desk&realm=rvoip',
      { headers: { 'x-api-key': adminSipKey } },
      200,
    )
    await check(
      'GET',
      '/sip/ha1?username=nobody1&realm=rvoip',
      { headers: { 'x-api-key': adminSipKey } },
      404,
    )
    const locked = answer('alice-desk', 'wrong', {})
    for (let i = 0; i < 3; i++)
      await t.app.request('/sip/digest/verify', verifyInit({ ...locked, source_ip: '2001:db8::1' }))
    await check(
      'POST',
      '/sip/digest/verify',
      verifyInit({ ...locked, source_ip: '2001:db8::1' }),
      429,
    )
    const id = (created as unknown as { credential: { id: string } }).credential.id
    await check('DELETE', `/sip-credentials/${id}`, { headers: bearer(alice.token) }, 204)
    await check('DELETE', `/sip-credentials/${id}`, { headers: bearer(alice.token) }, 404)
  })

  test('create: 201 with the secret once, never stored or listed; the default sip_username', async () => {
    const res = await create(alice.token, alice.id, { label: 'desk' })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as { credential: Record<string, unknown>; secret: string }
    expect(body.secret).toMatch(/^[0-9A-Za-z]{24,}$/)
    expect(body.credential).toEqual({
      id: expect.any(String),
      user_id: alice.id,
      label: 'desk',
      sip_username: 'alice-desk',
      realm: 'rvoip',
      created_at: expect.any(String),
      last_used_at: null,
      revoked: false,
    })
    const list = await t.app.request(`/users/${alice.id}/sip-credentials`, {
      headers: bearer(alice.token),
    })
    const text = await list.text()
    expect(JSON.parse(text)).toEqual([body.credential])
    expect(text).not.toContain(body.secret)
    const ha1 = computeHa1('MD5', 'alice-desk', 'rvoip', body.secret)
    const audit = JSON.stringify(await t.core.audit.list({ limit: 1000 }))
    expect(audit).toContain('sip_credential.created')
    expect(audit).not.toContain(body.secret)
    expect(audit).not.toContain(ha1)
  })

  test('create: label and sip_username conflicts are 409 with the field; bad ones 400', async () => {
    await newCredential('desk')
    const again = await create(alice.token, alice.id, { label: 'desk' })
    expect(again.status).toBe(409)
    expect(((await again.json()) as { error: { details: unknown } }).error.details).toEqual({
      field: 'label',
    })
    const taken = await create(alice.token, alice.id, {
      label: 'other',
      sip_username: 'ALICE-desk',
    })
    expect(taken.status).toBe(409)
    expect(((await taken.json()) as { error: { details: unknown } }).error.details).toEqual({
      field: 'sip_username',
    })
    for (const body of [
      { label: '' },
      { label: 'x'.repeat(65) },
      { label: 'a\nb' },
      { label: 'ok', sip_username: 'has space' },
      { label: 'ok', sip_username: 'ab' },
      { label: 'my phone' }, // the default alice-my phone is not a SIP username
      { label: 'ok', extra: 1 },
    ]) {
      const res = await create(alice.token, alice.id, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'VALIDATION_ERROR',
      )
    }
  })

  test('only the user or an admin manages credentials; others get 403 / 404', async () => {
    const bob = await t.createUser('bob')
    expect((await create(bob.token, alice.id, { label: 'x' })).status).toBe(403)
    expect((await create(t.adminToken, alice.id, { label: 'by-admin' })).status).toBe(201)
    const { credential } = await newCredential('mine')
    const asBob = await t.app.request(`/sip-credentials/${credential.id}`, {
      method: 'DELETE',
      headers: bearer(bob.token),
    })
    expect(asBob.status).toBe(404)
    const asAlice = await t.app.request(`/sip-credentials/${credential.id}`, {
      method: 'DELETE',
      headers: bearer(alice.token),
    })
    expect(asAlice.status).toBe(204)
    const twice = await t.app.request(`/sip-credentials/${credential.id}`, {
      method: 'DELETE',
      headers: bearer(alice.token),
    })
    expect(twice.status).toBe(404)
  })

  test('verify: MD5, SHA-256, SHA-512-256, their -sess forms, no qop, and the ha1b name', async () => {
    const { secret } = await newCredential()
    for (const algorithm of [
      'MD5',
      'MD5-sess',
      'SHA-256',
      'SHA-256-sess',
      'SHA-512-256',
      'SHA-512-256-sess',
    ]) {
      const res = await verify(answer('alice-desk', secret, { algorithm }))
      expect(res.status).toBe(200)
      expect(await res.json(), algorithm).toEqual({
        valid: true,
        user_id: alice.id,
        username: 'alice',
        sip_username: 'alice-desk',
        credential_id: expect.any(String),
        roles: ['user'],
      })
    }
    const noQop = answer('alice-desk', secret, { qop: undefined, nc: undefined, cnonce: undefined })
    expect(await (await verify(noQop)).json()).toMatchObject({ valid: true })
    const ha1b = answer('alice-desk@rvoip', secret, { algorithm: 'SHA-256' })
    expect(await (await verify(ha1b)).json()).toMatchObject({
      valid: true,
      sip_username: 'alice-desk',
    })
    const types = (await t.core.audit.list({ type: 'sip.auth.succeeded' })).total
    expect(types).toBe(8)
  })

  test('verify: the same {valid:false} for wrong responses, unknown names, revoked, inactive, other realms', async () => {
    const { secret, credential } = await newCredential()
    const answers: Digest[] = [
      answer('alice-desk', `${secret}x`),
      answer('nobody-at-all', secret),
      answer('alice-desk', secret, {}, 'other-realm'),
      { ...answer('alice-desk', secret), method: 'INVITE' },
    ]
    for (const [i, body] of answers.entries()) {
      const res = await verify({ ...body, source_ip: `198.51.100.${i + 1}` })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('{"valid":false}')
    }
    expect(await (await verify(answer('alice-desk', secret))).json()).toMatchObject({ valid: true })
    await t.core.users.update(alice.id, { active: false })
    expect(await (await verify(answer('alice-desk', secret))).text()).toBe('{"valid":false}')
    await t.core.users.update(alice.id, { active: true })
    expect(await (await verify(answer('alice-desk', secret))).json()).toMatchObject({ valid: true })
    await t.core.sip.revokeCredential(String(credential.id))
    expect(await (await verify(answer('alice-desk', secret))).text()).toBe('{"valid":false}')
    const failed = await t.core.audit.list({ type: 'sip.auth.failed' })
    expect(failed.items.map((e) => e.details.reason).sort()).toEqual(
      [
        'inactive_user',
        'realm_mismatch',
        'revoked',
        'unknown_username',
        'wrong_response',
        'wrong_response',
      ].sort(),
    )
  })

  test('a deleted user takes the credentials along', async () => {
    const { secret } = await newCredential()
    await t.core.users.delete(alice.id)
    expect(await (await verify(answer('alice-desk', secret))).text()).toBe('{"valid":false}')
  })

  test('lockout per (sip_username, source): ACCOUNT_LOCKED after sip.max_failed_auths, other sources unaffected', async () => {
    const { secret } = await newCredential()
    const from = (ip: string, body: Digest) => ({ ...body, source_ip: ip })
    for (let i = 0; i < 3; i++) {
      expect((await verify(from('192.0.2.7', answer('alice-desk', 'wrong')))).status).toBe(200)
    }
    const locked = await verify(from('192.0.2.7', answer('alice-desk', secret)))
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe('ACCOUNT_LOCKED')
    expect(
      await (await verify(from('192.0.2.8', answer('alice-desk', secret)))).json(),
    ).toMatchObject({
      valid: true,
    })
    // Unknown names lock the same way: a 429 tells nothing about which names exist.
    for (let i = 0; i < 3; i++) await verify(from('192.0.2.9', answer('ghost-name', 'x')))
    expect((await verify(from('192.0.2.9', answer('ghost-name', 'x')))).status).toBe(429)
  })

  test('hostile digest fields: 400 VALIDATION_ERROR, never a 5xx', async () => {
    const { secret } = await newCredential()
    const good = answer('alice-desk', secret)
    const bad: Digest[] = [
      { ...good, username: 'alice"desk' },
      { ...good, username: 'alice\\desk' },
      { ...good, uri: 'sip:a\r\nX-Injected: 1' },
      { ...good, nonce: 'n'.repeat(10_000) },
      { ...good, cnonce: 'c'.repeat(257) },
      { ...good, realm: 'r\u0000' },
      { ...good, algorithm: 'SHA-1' },
      { ...good, algorithm: 'md5 ' },
      { ...good, qop: 'auth-int' },
      { ...good, qop: 'auth,auth-int' },
      { ...good, nc: '1' },
      { ...good, nc: undefined },
      { ...good, response: 'not-hex' },
      { ...good, response: 'a'.repeat(31) },
      { ...good, method: 'REG ISTER' },
      { ...good, source_ip: 'not-an-ip' },
      { ...good, username: 42 },
      { ...good, extra: 'field' },
      {
        ...answer('alice-desk', secret, { algorithm: 'MD5-sess' }),
        cnonce: undefined,
        qop: undefined,
        nc: undefined,
      },
      {},
    ]
    for (const body of bad) {
      const res = await verify(body)
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'VALIDATION_ERROR',
      )
    }
    const notJson = await t.app.request('/sip/digest/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': sipKey },
      body: '{"username": ',
    })
    expect(notJson.status).toBe(400)
  })

  test('the sip permission: only a key holding it by name; * does not imply it; only admins grant it', async () => {
    const { secret } = await newCredential()
    const body = answer('alice-desk', secret)
    const starKey = await t.createKey(t.admin.id, ['*'])
    const registrar = await t.core.users.getByUsername('registrar')
    const writeKey = await t.createKey(String(registrar?.id), ['read', 'write'])
    for (const headers of [
      bearer(t.adminToken),
      bearer(alice.token),
      { 'x-api-key': starKey },
      { 'x-api-key': writeKey },
    ]) {
      const res = await t.app.request('/sip/digest/verify', json('POST', body, headers))
      expect(res.status).toBe(403)
    }
    expect((await t.app.request('/sip/digest/verify', json('POST', body))).status).toBe(401)
    const selfGrant = await t.app.request(
      `/users/${alice.id}/api-keys`,
      json('POST', { name: 'mine', permissions: ['sip'] }, bearer(alice.token)),
    )
    expect(selfGrant.status).toBe(403)
    const adminGrant = await t.app.request(
      `/users/${alice.id}/api-keys`,
      json('POST', { name: 'registrar', permissions: ['sip'] }, bearer(t.adminToken)),
    )
    expect(adminGrant.status).toBe(201)
    // A sip-only key calls no other route and mints no token.
    expect((await t.app.request('/users/me', { headers: { 'x-api-key': sipKey } })).status).toBe(
      403,
    )
    expect(
      (
        await t.app.request('/auth/api-key/token', {
          method: 'POST',
          headers: { 'x-api-key': sipKey },
        })
      ).status,
    ).toBe(403)
  })

  test('GET /sip/ha1: an admin-owned sip key only; every lookup audited; 404 for unknown or revoked', async () => {
    const { secret, credential } = await newCredential()
    const adminSipKey = await t.createKey(t.admin.id, ['sip'])
    const ha1 = (q: string, key = adminSipKey) =>
      t.app.request(`/sip/ha1?${q}`, { headers: { 'x-api-key': key } })
    expect((await ha1('username=alice-desk&realm=rvoip', sipKey)).status).toBe(403)
    expect(
      (
        await t.app.request('/sip/ha1?username=alice-desk&realm=rvoip', {
          headers: bearer(t.adminToken),
        })
      ).status,
    ).toBe(403)
    for (const algorithm of HA1_ALGORITHMS) {
      const res = await ha1(`username=alice-desk&realm=rvoip&algorithm=${algorithm}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await res.json()).toEqual({
        ha1: computeHa1(algorithm, 'alice-desk', 'rvoip', secret),
        user_id: alice.id,
      })
    }
    const b = await ha1('username=alice-desk%40rvoip&realm=rvoip')
    expect(((await b.json()) as { ha1: string }).ha1).toBe(
      computeHa1('MD5', 'alice-desk@rvoip', 'rvoip', secret),
    )
    expect((await ha1('username=nobody-here&realm=rvoip')).status).toBe(404)
    expect((await ha1('username=alice-desk&realm=other')).status).toBe(404)
    expect((await ha1('username=alice-desk&realm=rvoip&algorithm=SHA-1')).status).toBe(400)
    expect((await ha1('username=alice-desk&realm=rvoip&algorithm=MD5-sess')).status).toBe(400)
    expect((await ha1('username=a%22b&realm=rvoip')).status).toBe(400)
    await t.core.sip.revokeCredential(String(credential.id))
    expect((await ha1('username=alice-desk&realm=rvoip')).status).toBe(404)
    const reads = await t.core.audit.list({ type: 'sip.ha1_read', limit: 100 })
    expect(reads.total).toBe(7)
    const text = JSON.stringify(reads)
    for (const algorithm of HA1_ALGORITHMS)
      expect(text).not.toContain(computeHa1(algorithm, 'alice-desk', 'rvoip', secret))
  })
})

describe('RFC 7616 §3.9.1 through POST /sip/digest/verify', () => {
  test('MD5 and SHA-256 responses of the worked example are accepted, a changed digit is not', async () => {
    // The generated secret is the RFC's password: the route is then checked against the RFC's numbers.
    let nextSecret: string | undefined
    const random: Random = {
      ...secureRandom,
      string: (length, alphabet) => {
        const secret = nextSecret
        nextSecret = undefined
        return secret ?? secureRandom.string(length, alphabet)
      },
    }
    const logger = createLogger('silent')
    const core = await init(testConfig({ sip: { realm: 'http-auth@example.org' } }), {
      logger,
      random,
    })
    try {
      const app = createApp(core, { logger })
      const admin = await core.createUser({
        username: 'admin',
        password: 'Tr0ub4dor-Zephyr-9',
        roles: ['admin'],
      })
      const adminPrincipal = await core.authenticateBearer(
        (await core.authenticatePassword('admin', 'Tr0ub4dor-Zephyr-9')).accessToken,
      )
      const { key } = await core.apiKeys.create(
        { userId: admin.id, name: 'registrar', permissions: ['sip'] },
        { actor: adminPrincipal },
      )
      nextSecret = 'Circle of Life'
      await core.sip.createCredential({ userId: admin.id, label: 'mufasa', sipUsername: 'Mufasa' })
      const example = {
        username: 'Mufasa',
        realm: 'http-auth@example.org',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        qop: 'auth',
        nc: '00000001',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      }
      const check = async (body: Digest) =>
        (await (
          await app.request('/sip/digest/verify', json('POST', body, { 'x-api-key': key }))
        ).json()) as {
          valid: boolean
        }
      expect(
        await check({ ...example, algorithm: 'MD5', response: '8ca523f5e9506fed4657c9700eebdbec' }),
      ).toMatchObject({
        valid: true,
      })
      expect(
        await check({
          ...example,
          algorithm: 'SHA-256',
          response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
        }),
      ).toMatchObject({ valid: true, sip_username: 'Mufasa' })
      expect(
        await check({
          ...example,
          algorithm: 'SHA-256',
          response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c2',
        }),
      ).toEqual({ valid: false })
    } finally {
      await core.close()
    }
  })
})
