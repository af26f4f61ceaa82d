import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import { createApp } from '../../src/http/app.js'
import { type RunningServer, startServer } from '../../src/http/serve.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import { socketFrom } from './helpers.js'

// The server serves the app itself: over a socket every answer is the one app.request() gives,
// status, body and header for header, on the hottest routes and on the refusals too.

const ORIGIN = 'https://app.example'
const logger = createLogger('silent')
// Headers that differ between a socket and app.request() for reasons of transport only.
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'content-length'])

function headerMap(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (!TRANSPORT.has(name)) out[name] = value
  })
  return out
}

interface Harness {
  core: UsersCore
  server: RunningServer
  app: ReturnType<typeof createApp>
  close(): Promise<void>
}

async function startHarness(overrides: ConfigInput = {}): Promise<Harness> {
  const { core } = await createTestCore({
    api_bind_address: '127.0.0.1:0',
    api: { cors_allow_origins: [ORIGIN], trust_proxy: true },
    ...overrides,
  })
  const server = await startServer({ core, config: core.config, logger })
  const app = createApp(core, { logger, publicUrl: server.url })
  return { core, server, app, close: () => server.close() }
}

describe('one pipeline: the socket answers as the app does', () => {
  let h: Harness
  let apiKey: string
  let accessToken: string
  beforeAll(async () => {
    h = await startHarness({ rate_limit: { enabled: false } })
    const user = await h.core.createUser({ username: 'alice', password: GOOD_PASSWORD })
    apiKey = (await h.core.apiKeys.create({ userId: user.id, name: 'ci', permissions: ['read'] }))
      .key
    accessToken = (await h.core.authenticatePassword('alice', GOOD_PASSWORD)).accessToken
  })
  afterAll(() => h.close())

  async function both(path: string, headers: Record<string, string>) {
    const socket = await fetch(`${h.server.url}${path}`, { headers })
    // The same peer as the socket's, so trusted-proxy headers count the same on both sides.
    const app = await h.app.request(path, { headers }, socketFrom('127.0.0.1'))
    return { socket, app, socketBody: await socket.text(), appBody: await app.text() }
  }

  const cases: [string, string, () => Record<string, string>][] = [
    ['JWKS', '/auth/jwks.json', () => ({})],
    ['JWKS (well-known)', '/.well-known/jwks.json', () => ({})],
    ['discovery', '/.well-known/openid-configuration', () => ({})],
    ['/users/me by API key', '/users/me', () => ({ 'x-api-key': apiKey })],
    ['/users/me by access token', '/users/me', () => ({ authorization: `Bearer ${accessToken}` })],
    ['/users/me without a credential', '/users/me', () => ({})],
    ['an unknown route', '/nope', () => ({})],
  ]
  for (const [name, path, headersOf] of cases) {
    for (const extra of [
      { 'x-request-id': 'req-1', origin: ORIGIN },
      { 'x-request-id': 'req-2', origin: 'https://elsewhere.example' },
      { 'x-request-id': 'req-3', 'x-forwarded-proto': 'https' },
    ]) {
      it(`${name} (${extra['x-request-id']})`, async () => {
        const r = await both(path, { ...headersOf(), ...extra })
        expect(r.socket.status).toBe(r.app.status)
        expect(r.socketBody).toBe(r.appBody)
        expect(headerMap(r.socket.headers)).toEqual(headerMap(r.app.headers))
        expect(r.socket.headers.get('x-request-id')).toBe(extra['x-request-id'])
        expect(r.socket.headers.get('content-length')).toBe(String(Buffer.byteLength(r.socketBody)))
      })
    }
  }

  it('If-None-Match with the current ETag: 304 with the same headers', async () => {
    const etag = (await fetch(`${h.server.url}/auth/jwks.json`)).headers.get('etag') as string
    const headers = { 'if-none-match': `W/${etag}`, 'x-request-id': 'r', origin: ORIGIN }
    const r = await both('/auth/jwks.json', headers)
    expect(r.socket.status).toBe(304)
    expect(r.app.status).toBe(304)
    expect(r.socketBody).toBe('')
    expect(headerMap(r.socket.headers)).toEqual(headerMap(r.app.headers))
    for (const name of ['x-request-id', 'x-frame-options', 'access-control-allow-origin', 'vary']) {
      expect(r.socket.headers.has(name), name).toBe(true)
    }
    expect(r.socket.headers.get('cache-control')).toBe('public, max-age=300')
  })

  it('refresh grants and refusals: the same headers; a chunked body grants too', async () => {
    const post = (body: NonNullable<RequestInit['body']>): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'grant-1', origin: ORIGIN },
      body,
    })
    const token = async () =>
      (await h.core.authenticatePassword('alice', GOOD_PASSWORD)).refreshToken
    const socket = await fetch(
      `${h.server.url}/auth/refresh`,
      post(JSON.stringify({ refresh_token: await token() })),
    )
    const app = await h.app.request(
      '/auth/refresh',
      post(JSON.stringify({ refresh_token: await token() })),
    )
    expect([socket.status, app.status]).toEqual([200, 200])
    expect(headerMap(socket.headers)).toEqual(headerMap(app.headers))
    expect(socket.headers.get('cache-control')).toBe('no-store')

    const unknown = JSON.stringify({ refresh_token: `${crypto.randomUUID()}.${'A'.repeat(43)}` })
    const refusedSocket = await fetch(`${h.server.url}/auth/refresh`, post(unknown))
    const refusedApp = await h.app.request('/auth/refresh', post(unknown))
    expect([refusedSocket.status, refusedApp.status]).toEqual([401, 401])
    expect(await refusedSocket.json()).toEqual(await refusedApp.json())
    expect(headerMap(refusedSocket.headers)).toEqual(headerMap(refusedApp.headers))

    const chunked = await fetch(`${h.server.url}/auth/refresh`, {
      ...post(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(
              new TextEncoder().encode(JSON.stringify({ refresh_token: await token() })),
            )
            controller.close()
          },
        }),
      ),
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(200)
  })

  it('requests are counted in the metrics under their route', async () => {
    await h.core.createUser({ username: 'root', password: GOOD_PASSWORD, roles: ['admin'] })
    const { accessToken: root } = await h.core.authenticatePassword('root', GOOD_PASSWORD)
    const count = async () => {
      const res = await fetch(`${h.server.url}/metrics`, {
        headers: { authorization: `Bearer ${root}` },
      })
      const line = (await res.text())
        .split('\n')
        .find((l) =>
          l.startsWith(
            'users_core_http_requests_total{method="GET",route="/.well-known/openid-configuration",status="200"}',
          ),
        )
      return Number(line?.split(' ').at(-1) ?? 0)
    }
    const before = await count()
    await (await fetch(`${h.server.url}/.well-known/openid-configuration`)).arrayBuffer()
    await (await fetch(`${h.server.url}/.well-known/openid-configuration`)).arrayBuffer()
    expect(await count()).toBe(before + 2)
  })
})

describe('a login while the hash queue is full', () => {
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
      api: { cors_allow_origins: [ORIGIN], max_body_bytes: 1024 },
      rate_limit: { enabled: true, requests_per_minute: 1000, login_requests_per_minute: 1 },
    })
    await h.core.createUser({ username: 'dave', password: GOOD_PASSWORD })
  })
  afterAll(() => h.close())

  it('is refused 503 OVERLOADED first: before its body is read or any budget is spent', async () => {
    const hashing = h.core.createUser({ username: 'erin', password: GOOD_PASSWORD })
    for (let i = 0; i < 200 && h.core.hashPoolStats().active === 0; i++) {
      await new Promise((r) => setTimeout(r, 1))
    }
    expect(h.core.hashPoolStats().active).toBe(1)
    const headers = {
      'content-type': 'application/json',
      'x-request-id': 'flood-1',
      origin: ORIGIN,
    }
    const login = JSON.stringify({ username: 'dave', password: GOOD_PASSWORD })
    const socket = await fetch(`${h.server.url}/auth/login`, {
      method: 'POST',
      headers,
      body: login,
    })
    const app = await h.app.request('/auth/login', { method: 'POST', headers, body: login })
    // Neither a body over max_body_bytes nor one that is not JSON is looked at.
    const big = await fetch(`${h.server.url}/auth/login`, {
      method: 'POST',
      headers,
      body: 'x'.repeat(5000),
    })
    await hashing
    for (const res of [socket, app, big]) {
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(res.headers.get('x-request-id')).toBe('flood-1')
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
    const body = await socket.json()
    expect(body).toEqual({
      error: { code: 'OVERLOADED', message: expect.any(String) },
      request_id: 'flood-1',
    })
    expect(await app.json()).toEqual(body)
    expect(headerMap(socket.headers)).toEqual(headerMap(app.headers))
    // The one login a minute was not spent by the refusals: once the pool has room, it succeeds.
    const later = await fetch(`${h.server.url}/auth/login`, {
      method: 'POST',
      headers,
      body: login,
    })
    expect(later.status).toBe(200)
  })
})
