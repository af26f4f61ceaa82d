import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../../src/config.js'
import { type AppParts, createAppParts } from '../../src/http/app.js'
import { createEdge } from '../../src/http/edge.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'

// The server's fast path answers the hottest GETs before the framework. These tests run it on a
// real port in front of the real app and check that (1) it really answers the hot requests
// itself, (2) its answers are the app's answers — status, body and every header — and (3) it
// hands everything that is not a plain success to the app, which answers as it always does.

const ORIGIN = 'https://app.example'
// Headers that differ between a socket and app.request() for reasons of transport only.
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'content-length'])

interface Harness {
  core: UsersCore
  parts: AppParts
  url: string
  /** Requests the edge handed to the app. */
  handedOn: string[]
  close(): Promise<void>
}

async function startHarness(overrides: ConfigInput = {}): Promise<Harness> {
  const { core } = await createTestCore({
    api: { cors_allow_origins: [ORIGIN], trust_proxy: true },
    ...overrides,
  })
  const logger = createLogger('silent')
  const handedOn: string[] = []
  let handle: RequestListener = () => {}
  const server: Server = createServer((req, res) => handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const parts = createAppParts(core, { logger, publicUrl: url })
  const app = getRequestListener((request, env) => parts.app.fetch(request, env))
  handle = createEdge(
    {
      core,
      policy: parts.policy,
      documents: parts.documents,
      clientAddress: parts.clientAddress,
      logger,
      metrics: parts.metrics,
      limiter: parts.deps.limiter?.requests,
    },
    (req, res) => {
      handedOn.push(`${req.method} ${req.url}`)
      return app(req, res)
    },
  )
  return {
    core,
    parts,
    url,
    handedOn,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      parts.metrics.close()
      await core.close()
    },
  }
}

function headerMap(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (!TRANSPORT.has(name)) out[name] = value
  })
  return out
}

describe('fast path in front of the app', () => {
  let h: Harness
  let apiKey: string
  let accessToken: string

  beforeAll(async () => {
    h = await startHarness({ rate_limit: { enabled: false } })
    const user = await h.core.createUser({
      username: 'alice',
      password: GOOD_PASSWORD,
      email: 'alice@example.com',
    })
    apiKey = (await h.core.apiKeys.create({ userId: user.id, name: 'ci', permissions: ['read'] }))
      .key
    accessToken = (await h.core.authenticatePassword('alice', GOOD_PASSWORD)).accessToken
  })
  afterAll(() => h.close())

  /** The same request over the socket (edge first) and through app.request() (app only). */
  async function both(path: string, headers: Record<string, string>) {
    const before = h.handedOn.length
    const edge = await fetch(`${h.url}${path}`, { headers })
    const app = await h.parts.app.request(path, { headers })
    return {
      edge,
      app,
      handedOn: h.handedOn.length > before,
      edgeBody: await edge.text(),
      appBody: await app.text(),
    }
  }

  const cases: [string, string, () => Record<string, string>][] = [
    ['JWKS', '/auth/jwks.json', () => ({})],
    ['JWKS (well-known)', '/.well-known/jwks.json', () => ({})],
    ['discovery', '/.well-known/openid-configuration', () => ({})],
    ['JWKS with a query string', '/auth/jwks.json?v=2', () => ({})],
    ['/users/me by API key', '/users/me', () => ({ 'x-api-key': apiKey })],
    ['/users/me by API key as bearer', '/users/me', () => ({ authorization: `Bearer ${apiKey}` })],
    ['/users/me by access token', '/users/me', () => ({ authorization: `Bearer ${accessToken}` })],
    ['/users/me with a query string', '/users/me?fields=all', () => ({ 'x-api-key': apiKey })],
  ]
  for (const [name, path, headersOf] of cases) {
    for (const extra of [
      { 'x-request-id': 'req-1', origin: ORIGIN },
      { 'x-request-id': 'req-2', origin: 'https://elsewhere.example' },
      { 'x-request-id': 'req-3', 'x-forwarded-proto': 'https' },
    ]) {
      it(`${name} (${extra['x-request-id']}): answered by the fast path exactly as the app answers`, async () => {
        const r = await both(path, { ...headersOf(), ...extra })
        expect(r.handedOn).toBe(false)
        expect(r.edge.status).toBe(200)
        expect(r.edge.status).toBe(r.app.status)
        expect(r.edgeBody).toBe(r.appBody)
        expect(headerMap(r.edge.headers)).toEqual(headerMap(r.app.headers))
        expect(r.edge.headers.get('content-length')).toBe(String(Buffer.byteLength(r.edgeBody)))
      })
    }
  }

  it('a fresh request id when none (or an unsafe one) is sent', async () => {
    const res = await fetch(`${h.url}/auth/jwks.json`, { headers: { 'x-request-id': 'a b' } })
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('If-None-Match with the current ETag: 304 from the fast path, as from the app', async () => {
    const etag = (await fetch(`${h.url}/auth/jwks.json`)).headers.get('etag') as string
    const r = await both('/auth/jwks.json', { 'if-none-match': `W/${etag}`, 'x-request-id': 'r' })
    expect(r.handedOn).toBe(false)
    expect(r.edge.status).toBe(304)
    expect(r.app.status).toBe(304)
    expect(r.edgeBody).toBe('')
    expect(headerMap(r.edge.headers)).toEqual(headerMap(r.app.headers))
  })

  const handOns: [string, string, RequestInit | (() => RequestInit), number][] = [
    ['an unknown API key', '/users/me', { headers: { 'x-api-key': 'rvoip_ak_live_nope' } }, 401],
    [
      'a malformed Authorization header',
      '/users/me',
      { headers: { authorization: 'Basic x' } },
      401,
    ],
    ['no credential on /users/me', '/users/me', {}, 401],
    ['a credential on the JWKS', '/auth/jwks.json', { headers: { 'x-api-key': 'x' } }, 200],
    ['HEAD of the JWKS', '/auth/jwks.json', { method: 'HEAD' }, 200],
    ['POST to the JWKS', '/auth/jwks.json', { method: 'POST' }, 405],
    ['a path that only looks hot', '/auth/jwks.json/', {}, 404],
  ]
  for (const [name, path, init, status] of handOns) {
    it(`${name}: handed to the app, which answers ${status}`, async () => {
      const before = h.handedOn.length
      const res = await fetch(`${h.url}${path}`, typeof init === 'function' ? init() : init)
      expect(res.status).toBe(status)
      expect(h.handedOn.length).toBe(before + 1)
      if (status >= 400) {
        const body = (await res.json()) as { error: { code: string }; request_id: string }
        expect(body.request_id).toBe(res.headers.get('x-request-id'))
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      }
    })
  }

  it('a key without the read permission: handed on, 403 FORBIDDEN', async () => {
    const bob = await h.core.createUser({ username: 'bob', password: GOOD_PASSWORD })
    const { key } = await h.core.apiKeys.create({
      userId: bob.id,
      name: 'writer',
      permissions: ['write'],
    })
    const before = h.handedOn.length
    const res = await fetch(`${h.url}/users/me`, { headers: { 'x-api-key': key } })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN')
    expect(h.handedOn.length).toBe(before + 1)
  })

  it('a revoked key stops working at once on the fast path', async () => {
    const carol = await h.core.createUser({ username: 'carol', password: GOOD_PASSWORD })
    const { key, apiKey: info } = await h.core.apiKeys.create({
      userId: carol.id,
      name: 'short',
      permissions: ['read'],
    })
    expect((await fetch(`${h.url}/users/me`, { headers: { 'x-api-key': key } })).status).toBe(200)
    await h.core.apiKeys.revoke(info.id)
    expect((await fetch(`${h.url}/users/me`, { headers: { 'x-api-key': key } })).status).toBe(401)
  })

  it('a changed user is answered as changed at once, by key and by token', async () => {
    const dave = await h.core.createUser({ username: 'dave', password: GOOD_PASSWORD })
    const { key } = await h.core.apiKeys.create({
      userId: dave.id,
      name: 'me',
      permissions: ['read'],
    })
    const { accessToken } = await h.core.authenticatePassword('dave', GOOD_PASSWORD)
    const me = async (headers: Record<string, string>) =>
      (await (await fetch(`${h.url}/users/me`, { headers })).json()) as {
        display_name: string | null
        roles: string[]
      }
    const byKey = { 'x-api-key': key }
    const byToken = { authorization: `Bearer ${accessToken}` }
    for (const headers of [byKey, byToken]) {
      expect((await me(headers)).display_name).toBeNull()
      expect((await me(headers)).display_name).toBeNull() // the second answer is the cached one
    }
    await h.core.users.update(dave.id, { displayName: 'Dave', roles: ['user', 'auditor'] })
    for (const headers of [byKey, byToken]) {
      const after = await me(headers)
      expect(after.display_name).toBe('Dave')
      expect(after.roles).toEqual(['user', 'auditor'])
    }
  })

  it('fast-path requests are counted in the metrics under their route', async () => {
    const metric = async () => {
      const text = await h.parts.metrics.registry.metrics()
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith(
            'users_core_http_requests_total{method="GET",route="/.well-known/openid-configuration",status="200"}',
          ),
        )
      return Number(line?.split(' ').at(-1) ?? 0)
    }
    const before = await metric()
    await fetch(`${h.url}/.well-known/openid-configuration`)
    await fetch(`${h.url}/.well-known/openid-configuration`)
    expect(await metric()).toBe(before + 2)
  })
})

describe('fast path for refresh grants', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ rate_limit: { enabled: false } })
    await h.core.createUser({ username: 'frank', password: GOOD_PASSWORD, email: 'f@example.com' })
  })
  afterAll(() => h.close())

  const newRefreshToken = async () =>
    (await h.core.authenticatePassword('frank', GOOD_PASSWORD)).refreshToken
  const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': 'grant-1',
      origin: ORIGIN,
      ...headers,
    },
    body,
  })
  /** The same grant request over the socket (edge first) and through app.request() (app only). */
  async function both(initOf: (token: string) => RequestInit) {
    const before = h.handedOn.length
    const edge = await fetch(`${h.url}/auth/refresh`, initOf(await newRefreshToken()))
    const app = await h.parts.app.request('/auth/refresh', initOf(await newRefreshToken()))
    return { edge, app, handedOn: h.handedOn.length > before }
  }

  it('a grant: answered by the fast path as the app answers it, and the new token works', async () => {
    const r = await both((token) => post(JSON.stringify({ refresh_token: token })))
    expect(r.handedOn).toBe(false)
    expect(r.edge.status).toBe(200)
    expect(r.app.status).toBe(200)
    expect(headerMap(r.edge.headers)).toEqual(headerMap(r.app.headers))
    const edgeBody = (await r.edge.json()) as Record<string, unknown>
    const appBody = (await r.app.json()) as Record<string, unknown>
    // Tokens are new on each side; everything else is the same.
    const { access_token: a1, refresh_token: r1, ...edgeRest } = edgeBody
    const { access_token: a2, refresh_token: r2, ...appRest } = appBody
    expect(edgeRest).toEqual(appRest)
    expect([typeof a1, typeof r1]).toEqual(['string', 'string'])
    expect(r1).not.toBe(r2)
    const again = await fetch(`${h.url}/auth/refresh`, post(JSON.stringify({ refresh_token: r1 })))
    expect(again.status).toBe(200)
    const me = await fetch(`${h.url}/users/me`, { headers: { authorization: `Bearer ${a1}` } })
    expect(((await me.json()) as { username: string }).username).toBe('frank')
  })

  it("a refused grant: answered by the fast path with the app's 401, header for header", async () => {
    const unknown = `${crypto.randomUUID()}.${'A'.repeat(43)}`
    const r = await both(() => post(JSON.stringify({ refresh_token: unknown })))
    expect(r.handedOn).toBe(false)
    expect(r.edge.status).toBe(401)
    expect(r.app.status).toBe(401)
    expect(await r.edge.json()).toEqual(await r.app.json())
    expect(headerMap(r.edge.headers)).toEqual(headerMap(r.app.headers))
  })

  it('a replayed token revokes the session, through the fast path too', async () => {
    const first = await newRefreshToken()
    const granted = await fetch(
      `${h.url}/auth/refresh`,
      post(JSON.stringify({ refresh_token: first })),
    )
    const second = ((await granted.json()) as { refresh_token: string }).refresh_token
    await fetch(`${h.url}/auth/refresh`, post(JSON.stringify({ refresh_token: second })))
    // `first` is two rotations old: a replay, whatever the grace.
    const replay = await fetch(
      `${h.url}/auth/refresh`,
      post(JSON.stringify({ refresh_token: first })),
    )
    expect(replay.status).toBe(401)
    const events = await h.core.audit.list({ type: 'token.reuse_detected' })
    expect(events.items.length).toBeGreaterThan(0)
  })

  const handOns: [string, (token: string) => RequestInit, number][] = [
    ['a body that is not JSON', () => post('{"refresh_token":'), 400],
    ['a body with an unknown field', (t) => post(JSON.stringify({ refresh_token: t, x: 1 })), 400],
    ['a body without the token', () => post('{}'), 400],
    ['a token with a NUL', (t) => post(JSON.stringify({ refresh_token: `${t}\u0000` })), 400],
    ['an empty body', () => post(''), 400],
    [
      'a body that is not UTF-8',
      () => ({ ...post(''), body: new Uint8Array([0x7b, 0xff, 0x7d]) }),
      400,
    ],
    [
      'text/plain',
      (t) => post(JSON.stringify({ refresh_token: t }), { 'content-type': 'text/plain' }),
      415,
    ],
    [
      'a credential header',
      (t) => post(JSON.stringify({ refresh_token: t }), { 'x-api-key': 'x' }),
      200,
    ],
  ]
  for (const [name, initOf, status] of handOns) {
    it(`${name}: handed to the app with the body already read, which answers ${status}`, async () => {
      const r = await both(initOf)
      expect(r.handedOn).toBe(true)
      expect(r.edge.status).toBe(status)
      expect(r.app.status).toBe(status)
      const edgeBody = (await r.edge.json()) as Record<string, unknown>
      const appBody = (await r.app.json()) as Record<string, unknown>
      if (status === 200) expect(Object.keys(edgeBody)).toEqual(Object.keys(appBody))
      else expect(edgeBody).toEqual(appBody)
    })
  }

  it('a chunked body (no Content-Length): handed to the app, which grants', async () => {
    const token = await newRefreshToken()
    const before = h.handedOn.length
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ refresh_token: token })))
        controller.close()
      },
    })
    const res = await fetch(`${h.url}/auth/refresh`, {
      ...post(''),
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(200)
    expect(h.handedOn.length).toBe(before + 1)
  })
})

describe('fast path and the request budget', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ rate_limit: { enabled: true, requests_per_minute: 3 } })
  })
  afterAll(() => h.close())

  it('spends the same budget as the app; an empty one is answered 429 by the app, once', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${h.url}/auth/jwks.json`)).status)
    expect(statuses).toEqual([200, 200, 200])
    expect(h.handedOn).toEqual([])
    const limited = await fetch(`${h.url}/auth/jwks.json`)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    expect(h.handedOn).toEqual(['GET /auth/jwks.json'])
  })

  it('a refresh grant spends it too; with none left the app answers 429 from the read body', async () => {
    await h.core.createUser({ username: 'gina', password: GOOD_PASSWORD })
    const { refreshToken } = await h.core.authenticatePassword('gina', GOOD_PASSWORD)
    const res = await fetch(`${h.url}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    })
    expect(res.status).toBe(429)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED')
    expect(h.handedOn.at(-1)).toBe('POST /auth/refresh')
  })
})

describe('fast path and a full hash queue', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({
      // One slot, no queue, hashes of tens of ms: one running hash makes the pool full.
      password: {
        max_concurrent_hashes: 1,
        max_queued_hashes: 0,
        argon2_memory_cost: 65536,
        argon2_time_cost: 3,
      },
      rate_limit: { enabled: true, requests_per_minute: 1000, login_requests_per_minute: 1000 },
    })
    await h.core.createUser({ username: 'dave', password: GOOD_PASSWORD })
  })
  afterAll(() => h.close())

  it('a login while the pool is full: 503 OVERLOADED at the door, the same answer as the app', async () => {
    const hashing = h.core.createUser({ username: 'erin', password: GOOD_PASSWORD })
    for (let i = 0; i < 200 && !h.core.hashPoolStats().full; i++) {
      await new Promise((r) => setTimeout(r, 1))
    }
    expect(h.core.hashPoolStats().full).toBe(true)
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'flood-1', origin: ORIGIN },
      body: JSON.stringify({ username: 'dave', password: GOOD_PASSWORD }),
    }
    const edge = await fetch(`${h.url}/auth/login`, init)
    const app = await h.parts.app.request('/auth/login', init)
    await hashing
    expect(h.handedOn).toEqual([])
    expect(edge.status).toBe(503)
    expect(app.status).toBe(503)
    expect(await edge.json()).toEqual(await app.json())
    expect(headerMap(edge.headers)).toEqual(headerMap(app.headers))
    expect(edge.headers.get('retry-after')).toBe('1')
    // Once the pool has room, the same login goes to the app and succeeds.
    const later = await fetch(`${h.url}/auth/login`, init)
    expect(later.status).toBe(200)
    expect(h.handedOn).toEqual(['POST /auth/login'])
  })
})
