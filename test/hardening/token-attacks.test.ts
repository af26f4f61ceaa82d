// Forged and misused tokens against every route that takes a bearer credential (the list comes
// from openapi.yaml's security requirements). The core signs RS256 with a key file this test
// holds, so each attack is one defect away from a token the test first proves is accepted.
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../../src/http/app.js'
import type { AppEnv } from '../../src/http/context.js'
import type { ManualClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import { documentOperations, type Operation, operationLabel } from '../helpers/fuzz/operations.js'
import { assertErrorEnvelope } from '../helpers/fuzz/run-fuzz.js'

type Claims = Record<string, unknown>

const b64 = (value: object | Buffer) =>
  (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url')

/** A compact JWS by hand (jose refuses to make most of these). */
async function sign(
  header: Claims,
  claims: Claims,
  signer: (input: string) => Buffer | Promise<Buffer>,
): Promise<string> {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${(await signer(input)).toString('base64url')}`
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Sets an unused bit of the last character: lenient decoders read the same bytes. */
function nonCanonical(segment: string): string {
  const last = BASE64URL.indexOf(segment.at(-1) as string)
  const loose = `${segment.slice(0, -1)}${BASE64URL[last ^ 1]}`
  expect(Buffer.from(loose, 'base64url')).toEqual(Buffer.from(segment, 'base64url'))
  return loose
}

const rs256 = (key: KeyObject) => (input: string) => createSign('sha256').update(input).sign(key)

function decode(token: string): { header: Claims; claims: Claims } {
  const [h, p] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(h as string, 'base64url').toString()) as Claims,
    claims: JSON.parse(Buffer.from(p as string, 'base64url').toString()) as Claims,
  }
}

let dir: string
let core: UsersCore
let clock: ManualClock
let app: Hono<AppEnv>
let privateKey: KeyObject
let publicPem: string
let kid: string
let userId: string
let userToken: string
let userRefresh: string
let adminToken: string
let genuine: { header: Claims; claims: Claims }
const attacks = new Map<string, string>()

// Every operation whose security requirements name the bearer scheme (protected or, like
// /metrics with metrics_public off, protected by configuration).
const bearerRoutes: Operation[] = documentOperations().filter(
  (op) => op.security.includes('bearerAuth') || op.security.includes('apiKeyBearer'),
)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'users-core-token-attacks-'))
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  privateKey = pair.privateKey
  publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const keyFile = join(dir, 'signing.pem')
  writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  ;({ core, clock } = await createTestCore({
    jwt: { algorithm: 'RS256', private_key_file: keyFile },
    rate_limit: { enabled: false },
  }))
  app = createApp(core, { logger: createLogger('silent') })
  await core.createUser({ username: 'root', password: GOOD_PASSWORD, roles: ['admin'] })
  const user = await core.createUser({ username: 'mallory', password: GOOD_PASSWORD })
  userId = user.id
  const login = await core.authenticatePassword('mallory', GOOD_PASSWORD)
  userToken = login.accessToken
  userRefresh = login.refreshToken
  adminToken = (await core.authenticatePassword('root', GOOD_PASSWORD)).accessToken
  kid = (await core.jwks()).keys[0]?.kid as string
  genuine = decode(userToken)
  expect(genuine.header.kid).toBe(kid)

  const now = Math.floor(clock.now().getTime() / 1000)
  const escalated = { ...genuine.claims, roles: ['admin'], scope: `${genuine.claims.scope} admin` }
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const forge = (claims: Claims, header: Claims = genuine.header) =>
    sign(header, claims, rs256(privateKey))

  attacks.set('alg none', `${b64({ ...genuine.header, alg: 'none' })}.${b64(escalated)}.`)
  attacks.set('alg none, no kid', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(genuine.claims)}.`)
  attacks.set(
    'HS256 keyed with the RS256 public key',
    await sign({ ...genuine.header, alg: 'HS256' }, escalated, (input) =>
      createHmac('sha256', publicPem).update(input).digest(),
    ),
  )
  attacks.set('foreign issuer', await forge({ ...genuine.claims, iss: 'https://evil.example' }))
  attacks.set('wrong audience', await forge({ ...genuine.claims, aud: ['someone-else'] }))
  attacks.set(
    'expired',
    await forge({ ...genuine.claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
  )
  attacks.set(
    'not yet valid',
    await forge({ ...genuine.claims, iat: now + 3600, nbf: now + 3600, exp: now + 7200 }),
  )
  attacks.set('no exp', await forge({ ...genuine.claims, exp: undefined }))
  attacks.set('refresh token as access token', userRefresh)
  attacks.set(
    'tampered payload (roles → admin)',
    `${userToken.split('.')[0]}.${b64(escalated)}.${userToken.split('.')[2]}`,
  )
  attacks.set('unknown kid', await forge(genuine.claims, { ...genuine.header, kid: 'not-our-kid' }))
  attacks.set('another key with our kid', await sign(genuine.header, escalated, rs256(other)))
  attacks.set('typ missing', await forge(genuine.claims, { alg: 'RS256', kid }))
  attacks.set('signature stripped', `${userToken.split('.').slice(0, 2).join('.')}.`)
  const [h, p, sig] = userToken.split('.') as [string, string, string]
  attacks.set('signature re-encoded non-canonically (same bytes)', `${h}.${p}.${nonCanonical(sig)}`)
  attacks.set('sub of no user', await forge({ ...genuine.claims, sub: crypto.randomUUID() }))
  attacks.set('session of no one', await forge({ ...genuine.claims, sid: crypto.randomUUID() }))
})

afterAll(async () => {
  await core.close()
  rmSync(dir, { recursive: true, force: true })
})

function requestFor(op: Operation, token: string): [string, RequestInit] {
  const path = op.path.replace('{id}', userId).replace('{sid}', crypto.randomUUID())
  const hasBody = op.body !== undefined && op.method !== 'get'
  const body = op.path === '/auth/introspect' ? { token: userToken } : {}
  return [
    path,
    {
      method: op.method.toUpperCase(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(hasBody ? { body: JSON.stringify(body) } : {}),
    },
  ]
}

async function expect401(res: Response, code: string, label: string): Promise<void> {
  const text = await res.text()
  expect(res.status, `${label}: ${text}`).toBe(401)
  const body = JSON.parse(text) as { error: { code: string } }
  assertErrorEnvelope(body, res.headers.get('x-request-id'), label)
  expect(body.error.code, label).toBe(code)
}

describe('forged and misused tokens', () => {
  test('the route list comes from openapi.yaml and covers the protected API', () => {
    const labels = bearerRoutes.map(operationLabel)
    expect(labels).toEqual(
      expect.arrayContaining([
        'POST /auth/logout',
        'POST /auth/introspect',
        'GET /users',
        'DELETE /api-keys/{id}',
        'POST /admin/keys/rotate',
        'GET /metrics',
      ]),
    )
    expect(labels.length).toBeGreaterThanOrEqual(18)
  })

  test('control: the untouched token, re-signed by the test with the real key, is accepted', async () => {
    // Its own session: the control logs out on POST /auth/logout.
    const own = decode((await core.authenticatePassword('mallory', GOOD_PASSWORD)).accessToken)
    const resigned = await sign(own.header, own.claims, rs256(privateKey))
    const me = await app.request('/users/me', { headers: { authorization: `Bearer ${resigned}` } })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { id: string }).id).toBe(userId)
    // And on every route it is at worst refused for a reason other than authentication.
    const logoutLast = [...bearerRoutes].sort(
      (a, b) => Number(a.path === '/auth/logout') - Number(b.path === '/auth/logout'),
    )
    for (const op of logoutLast) {
      if (op.path === '/auth/api-key/token') continue // takes an API key only
      const res = await app.request(...requestFor(op, resigned))
      expect(res.status, operationLabel(op)).not.toBe(401)
      expect(res.status, operationLabel(op)).toBeLessThan(500)
    }
  })

  test('every attack token on every bearer route: 401 UNAUTHORIZED, envelope, WWW-Authenticate', async () => {
    expect(attacks.size).toBeGreaterThanOrEqual(15)
    for (const [name, token] of attacks) {
      for (const op of bearerRoutes) {
        const label = `${name} → ${operationLabel(op)}`
        const res = await app.request(...requestFor(op, token))
        expect(res.headers.get('www-authenticate') ?? '', label).toMatch(/^Bearer\b/)
        await expect401(res, 'UNAUTHORIZED', label)
      }
      // The same token in X-API-Key is no better.
      const viaKeyHeader = await app.request('/users/me', { headers: { 'x-api-key': token } })
      await expect401(viaKeyHeader, 'UNAUTHORIZED', `${name} in X-API-Key`)
    }
  })

  test('POST /auth/refresh refuses access tokens and forgeries as refresh tokens (INVALID_TOKEN)', async () => {
    for (const [name, token] of [['access token', userToken] as const, ...attacks]) {
      if (token === userRefresh) continue
      const res = await app.request('/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      })
      await expect401(res, 'INVALID_TOKEN', `refresh with ${name}`)
    }
    // The genuine refresh token still works: the refusals were about the tokens, not the route.
    const ok = await app.request('/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: userRefresh }),
    })
    expect(ok.status).toBe(200)
  })

  test('introspection answers {active:false} for every attack token, true for the genuine one', async () => {
    const introspect = async (token: string) => {
      const res = await app.request('/auth/introspect', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      })
      expect(res.status).toBe(200)
      return (await res.json()) as { active: boolean }
    }
    expect((await introspect(userToken)).active).toBe(true)
    for (const [name, token] of attacks) {
      expect(await introspect(token), name).toEqual({ active: false })
    }
  })

  test('tokens that expire while held stop working (manual clock past exp + leeway)', async () => {
    const { accessToken } = await core.authenticatePassword('mallory', GOOD_PASSWORD)
    const ok = await app.request('/users/me', {
      headers: { authorization: `Bearer ${accessToken}` },
    })
    expect(ok.status).toBe(200)
    clock.advance((core.config.jwt.access_ttl_seconds + 120) * 1000)
    try {
      const res = await app.request('/users/me', {
        headers: { authorization: `Bearer ${accessToken}` },
      })
      await expect401(res, 'UNAUTHORIZED', 'expired by the clock')
    } finally {
      clock.advance(-(core.config.jwt.access_ttl_seconds + 120) * 1000)
    }
  })
})
