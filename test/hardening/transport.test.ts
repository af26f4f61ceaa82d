// Headers and transport: X-Forwarded-* trusted only with api.trust_proxy and from a trusted peer,
// oversized headers and bodies refused cleanly by a real server (also chunked, without
// Content-Length), slow requests cut off and connections capped, and CORS and security headers on
// error responses.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import { createApp } from '../../src/http/app.js'
import type { AppEnv } from '../../src/http/context.js'
import { type RunningServer, startServer } from '../../src/http/serve.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'
import { assertErrorEnvelope } from '../helpers/fuzz/run-fuzz.js'
import { socketFrom } from '../http/helpers.js'

const silent = createLogger('silent')

async function appWith(overrides: ConfigInput): Promise<{ core: UsersCore; app: Hono<AppEnv> }> {
  const { core } = await createTestCore(overrides)
  await core.createUser({ username: 'victim', password: GOOD_PASSWORD })
  return { core, app: createApp(core, { logger: silent }) }
}

/** `app.request` as if from a socket at `remoteAddress`. */
function fromSocket(app: Hono<AppEnv>, remoteAddress: string) {
  return (path: string, init: RequestInit) => app.request(path, init, socketFrom(remoteAddress))
}

const badLogin = (xff: string, username = 'victim') => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
  body: JSON.stringify({ username, password: 'Wrong-Password-1' }),
})

/**
 * With a login budget of 2 a minute, logins from socket `peer` that claim a new address in
 * `X-Forwarded-For` each time are still one client: the third is refused.
 */
async function expectLoginBudgetPerPeer(api: ConfigInput['api'], peer: string): Promise<void> {
  const limited = await appWith({
    api,
    rate_limit: { max_failed_logins: 1000, login_requests_per_minute: 2 },
  })
  try {
    const send = fromSocket(limited.app, peer)
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      statuses.push((await send('/auth/login', badLogin(`198.51.100.${i}`))).status)
    }
    expect(statuses).toEqual([401, 401, 429])
  } finally {
    await limited.core.close()
  }
}

async function lastFailedLoginIp(core: UsersCore): Promise<string | null | undefined> {
  const page = await core.audit.list({ type: 'user.login.failed', limit: 1 })
  return page.items[0]?.ip
}

describe('X-Forwarded-For', () => {
  test('is ignored without trust_proxy: the socket address is recorded, and rotating it dodges neither lockout nor rate limit', async () => {
    const { core, app } = await appWith({
      api: { trust_proxy: false },
      rate_limit: { max_failed_logins: 3, login_requests_per_minute: 1000 },
    })
    try {
      const send = fromSocket(app, '10.0.0.5')
      const statuses: number[] = []
      for (const xff of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
        statuses.push((await send('/auth/login', badLogin(xff))).status)
        expect(await lastFailedLoginIp(core)).toBe('10.0.0.5')
      }
      // The third failure locks (victim, 10.0.0.5) whatever the header claimed.
      expect(statuses).toEqual([401, 401, 429, 429])
      // The lock is per (username, IP): another socket address is not locked out.
      const elsewhere = await fromSocket(app, '10.0.0.6')('/auth/login', badLogin('203.0.113.3'))
      expect(elsewhere.status).toBe(401)
    } finally {
      await core.close()
    }

    await expectLoginBudgetPerPeer({ trust_proxy: false }, '10.0.0.5')
  })

  test("with trust_proxy and a trusted peer the proxy's entry (the last) is the client; earlier, client-written entries are not", async () => {
    const { core, app } = await appWith({
      api: { trust_proxy: true, trusted_proxies: ['10.0.0.0/8'] },
      rate_limit: { max_failed_logins: 3 },
    })
    try {
      const send = fromSocket(app, '10.0.0.5')
      await send('/auth/login', badLogin('198.51.100.7'))
      expect(await lastFailedLoginIp(core)).toBe('198.51.100.7')
      // A client prepending a fake address: the proxy appended the real one last.
      await send('/auth/login', badLogin('1.2.3.4, 198.51.100.8'))
      expect(await lastFailedLoginIp(core)).toBe('198.51.100.8')
      // Not an address: the socket's is kept.
      await send('/auth/login', badLogin('<script>'))
      expect(await lastFailedLoginIp(core)).toBe('10.0.0.5')
    } finally {
      await core.close()
    }
  })

  test('with trust_proxy a peer outside trusted_proxies is the client: rotating X-Forwarded-For dodges neither lockout nor rate limit', async () => {
    const { core, app } = await appWith({
      api: { trust_proxy: true },
      rate_limit: { max_failed_logins: 3, login_requests_per_minute: 1000 },
    })
    try {
      const send = fromSocket(app, '10.0.0.5')
      const statuses: number[] = []
      for (const xff of ['203.0.113.1', '203.0.113.2', '127.0.0.1', '10.0.0.5, 203.0.113.4']) {
        statuses.push((await send('/auth/login', badLogin(xff))).status)
        expect(await lastFailedLoginIp(core)).toBe('10.0.0.5')
      }
      expect(statuses).toEqual([401, 401, 429, 429])
    } finally {
      await core.close()
    }

    await expectLoginBudgetPerPeer(
      { trust_proxy: true, trusted_proxies: ['192.0.2.0/24'] },
      '127.0.0.1',
    )
  })

  test('X-Forwarded-Proto earns HSTS only with trust_proxy, and only from a trusted proxy', async () => {
    const cases: [ConfigInput['api'], boolean][] = [
      [{ trust_proxy: false }, false],
      [{ trust_proxy: true }, true],
      [{ trust_proxy: true, trusted_proxies: ['10.0.0.0/8'] }, false],
    ]
    for (const [api, hsts] of cases) {
      const { core, app } = await appWith({ api })
      try {
        const res = await app.request(
          '/health',
          { headers: { 'x-forwarded-proto': 'https' } },
          socketFrom('127.0.0.1'),
        )
        expect(res.headers.has('strict-transport-security'), JSON.stringify(api)).toBe(hsts)
      } finally {
        await core.close()
      }
    }
  })
})

describe('a real server under oversized input', () => {
  let server: RunningServer
  let core: UsersCore
  beforeAll(async () => {
    ;({ core } = await createTestCore({ api_bind_address: '127.0.0.1:0' }))
    await core.createUser({ username: 'victim', password: GOOD_PASSWORD })
    server = await startServer({ core, config: core.config, logger: silent })
  })
  afterAll(() => server.close())

  const health = () =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/health`, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })

  /** Writes raw bytes, returns whatever comes back before the server closes (or 3 s pass). */
  const raw = (payload: string | Buffer, waitMs = 3000) =>
    new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1')
      let received = ''
      const done = () => {
        socket.destroy()
        resolve(received)
      }
      const timer = setTimeout(done, waitMs)
      socket.on('data', (d) => {
        received += d.toString('latin1')
      })
      socket.on('error', () => {})
      socket.on('close', () => {
        clearTimeout(timer)
        resolve(received)
      })
      socket.write(payload, () => {})
    })

  test('a 100 KB header gets 431 or a closed connection, and the server keeps answering', async () => {
    for (const name of ['X-Big', 'Authorization', 'Cookie']) {
      const value = name === 'Authorization' ? `Bearer ${'A'.repeat(100_000)}` : 'A'.repeat(100_000)
      const answer = await raw(
        `GET /users/me HTTP/1.1\r\nHost: localhost\r\n${name}: ${value}\r\n\r\n`,
      )
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]
      expect(status === undefined || status === '431', `${name}: ${answer.slice(0, 80)}`).toBe(true)
      expect(await health()).toBe(200)
    }
    // Many headers (each small) are refused the same way.
    const many = Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${'v'.repeat(20)}`).join('\r\n')
    const answer = await raw(`GET /health HTTP/1.1\r\nHost: localhost\r\n${many}\r\n\r\n`)
    expect(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed').toMatch(/^(431|closed)$/)
    expect(await health()).toBe(200)
  })

  /** Splits a raw HTTP/1.1 answer into status, lower-cased headers and (de-chunked) body. */
  const parse = (answer: string) => {
    const at = answer.indexOf('\r\n\r\n')
    const [statusLine = '', ...lines] = answer.slice(0, at).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    let body = answer.slice(at + 4)
    if (headers['transfer-encoding'] === 'chunked') {
      let out = ''
      for (;;) {
        const eol = body.indexOf('\r\n')
        const size = Number.parseInt(body.slice(0, eol), 16)
        if (!size) break
        out += body.slice(eol + 2, eol + 2 + size)
        body = body.slice(eol + 2 + size + 2)
      }
      body = out
    }
    return { status: Number(statusLine.split(' ')[1]), headers, body }
  }

  /** A POST /auth/login of `total` body bytes: Content-Length `declared`, else chunked. */
  const oversized = (total: number, declared?: number) => {
    const head =
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n' +
      (declared === undefined
        ? 'Transfer-Encoding: chunked\r\n'
        : `Content-Length: ${declared}\r\n`) +
      '\r\n'
    const kib = Math.ceil(total / 1024)
    const body =
      declared === undefined
        ? `${`400\r\n${'a'.repeat(1024)}\r\n`.repeat(kib)}0\r\n\r\n`
        : 'a'.repeat(total)
    return raw(head + body)
  }

  test('oversized bodies get the 413 envelope: by Content-Length, and chunked without one', async () => {
    for (const [label, total, declared] of [
      ['declared 2 MB', 2_000_000, 2_000_000],
      ['declared 2 MB, 10 KB sent', 10_000, 2_000_000],
      ['chunked 1 MB', 1_000_000, undefined],
      ['chunked just over 64 KiB', 66_000, undefined],
    ] as const) {
      const res = parse(await oversized(total, declared))
      expect(res.status, label).toBe(413)
      const body = JSON.parse(res.body) as { error: { code: string } }
      assertErrorEnvelope(body, res.headers['x-request-id'] ?? null, label)
      expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(await health()).toBe(200)
    }
    // A login that fits still works afterwards.
    const ok = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'victim', password: GOOD_PASSWORD }),
    })
    expect(ok.status).toBe(200)
  })

  test('a client still streaming a huge chunked body is cut off without hurting the server', async () => {
    // A raw client writing as it goes: it sees the 413, or a reset when the server closes with
    // the rest of the body unread (no lingering close; see docs/decisions.md). Never a hang.
    const outcome = await new Promise<string>((resolve) => {
      const url = new URL(server.url)
      const socket = connect(Number(url.port), url.hostname)
      let answer = ''
      let finished = false
      const finish = (value: string) => {
        if (finished) return
        finished = true
        socket.destroy()
        resolve(value)
      }
      socket.setEncoding('latin1')
      socket.on('data', (d: string) => {
        answer += d
      })
      socket.on('error', (err: NodeJS.ErrnoException) => finish(answer || err.code || 'error'))
      socket.on('close', () => finish(answer || 'closed'))
      socket.write(
        'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      )
      const chunk = `400\r\n${'a'.repeat(1024)}\r\n`
      let sent = 0
      const pump = () => {
        while (!finished && !socket.destroyed && sent < 4_000_000) {
          sent += 1024
          if (!socket.write(chunk)) {
            socket.once('drain', pump)
            return
          }
        }
        if (!finished && !socket.destroyed) socket.write('0\r\n\r\n')
      }
      pump()
    })
    const status = /^HTTP\/1\.1 (\d{3})/.exec(outcome)?.[1] ?? outcome
    expect(status).toMatch(/^(413|ECONNRESET|EPIPE|closed)$/)
    expect(await health()).toBe(200)
  })

  test('a body shorter than its Content-Length, or garbage framing, does not hang or crash the server', async () => {
    const short = await raw(
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a":1}',
      1000,
    )
    expect(short === '' || /^HTTP\/1\.1 (400|408|413)/.test(short), short.slice(0, 80)).toBe(true)
    const bad = await raw(
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n',
    )
    expect(bad === '' || /^HTTP\/1\.1 400/.test(bad), bad.slice(0, 80)).toBe(true)
    const smuggle = await raw(
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      1000,
    )
    expect(smuggle === '' || /^HTTP\/1\.1 400/.test(smuggle), smuggle.slice(0, 80)).toBe(true)
    expect(await health()).toBe(200)
  }, 15_000)
})

/** A connection that has had one keep-alive answer, or was closed before any. */
interface Held {
  socket: Socket
  answer: string
}

/** Connects, sends a keep-alive `GET /health`, resolves on the first bytes back or the close. */
function holdConnection(port: number): Promise<Held> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.setEncoding('latin1')
    socket.on('error', () => {})
    socket.on('data', (d: string) => {
      answer += d
      if (answer.includes('\r\n\r\n')) resolve({ socket, answer })
    })
    socket.on('close', () => resolve({ socket, answer }))
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
  })
}

/** Writes `head`, then `body` one byte a second; resolves with what came back and when. */
function trickle(port: number, head: string, body: string) {
  return new Promise<{ answer: string; ms: number }>((resolve) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    let sent = 0
    let timer: NodeJS.Timeout | undefined
    const finish = () => {
      clearInterval(timer)
      socket.destroy()
      resolve({ answer, ms: Date.now() - started })
    }
    socket.setEncoding('latin1')
    socket.on('error', finish)
    socket.on('close', finish)
    socket.on('data', (d: string) => {
      answer += d
    })
    socket.write(head)
    timer = setInterval(() => {
      if (sent < body.length && !socket.destroyed) socket.write(body.charAt(sent++))
    }, 1000)
  })
}

describe('a real server under slow and numerous connections', () => {
  const started: { server: RunningServer; core: UsersCore }[] = []
  const serve = async (api: ConfigInput['api'], rateLimit: ConfigInput['rate_limit'] = {}) => {
    const { core } = await createTestCore({
      api_bind_address: '127.0.0.1:0',
      api,
      rate_limit: rateLimit,
    })
    const server = await startServer({ core, config: core.config, logger: silent })
    started.push({ server, core })
    return server
  }
  afterAll(async () => {
    for (const { server } of started) await server.close()
  })

  test('a body sent a byte a second is cut off after api.request_timeout_seconds', async () => {
    const server = await serve({ request_timeout_seconds: 2, headers_timeout_seconds: 1 })
    const { answer, ms } = await trickle(
      server.port,
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n',
      `{"username":"victim","password":"${'x'.repeat(30)}"}`,
    )
    expect(answer === '' || /^HTTP\/1\.1 408/.test(answer), answer.slice(0, 80)).toBe(true)
    expect(ms).toBeGreaterThanOrEqual(1900)
    expect(ms).toBeLessThan(5000)
  }, 10_000)

  test('headers sent a byte a second are cut off after api.headers_timeout_seconds', async () => {
    const server = await serve({ request_timeout_seconds: 5, headers_timeout_seconds: 1 })
    const { answer, ms } = await trickle(
      server.port,
      'GET /health HTTP/1.1\r\n',
      'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n',
    )
    expect(answer === '' || /^HTTP\/1\.1 408/.test(answer), answer.slice(0, 80)).toBe(true)
    expect(ms).toBeLessThan(4000)
  }, 10_000)

  test('connections beyond api.max_connections_per_ip are closed at once; a freed slot is served', async () => {
    const server = await serve({ max_connections_per_ip: 3 })
    const held = [] as Held[]
    for (let i = 0; i < 3; i++) held.push(await holdConnection(server.port))
    for (const { answer } of held) expect(answer).toMatch(/^HTTP\/1\.1 200/)
    const refused = await holdConnection(server.port)
    expect(refused.answer).toBe('')
    expect(refused.socket.destroyed).toBe(true)
    held[0]?.socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const next = await holdConnection(server.port)
    expect(next.answer).toMatch(/^HTTP\/1\.1 200/)
    for (const { socket } of [...held, next]) socket.destroy()
  })

  test('a trusted proxy is held to api.max_connections only, not to the per-IP cap', async () => {
    const server = await serve({ trust_proxy: true, max_connections: 4, max_connections_per_ip: 1 })
    const held = [] as Held[]
    for (let i = 0; i < 4; i++) held.push(await holdConnection(server.port))
    for (const { answer } of held) expect(answer).toMatch(/^HTTP\/1\.1 200/)
    const refused = await holdConnection(server.port)
    expect(refused.answer).toBe('')
    for (const { socket } of held) socket.destroy()
  })

  test('over TLS the per-IP cap and the headers timeout hold too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'users-core-tls-'))
    try {
      const cert = join(dir, 'cert.pem')
      const key = join(dir, 'key.pem')
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-days',
          '1',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { stdio: 'ignore' },
      )
      const { core } = await createTestCore({
        api_bind_address: '127.0.0.1:0',
        api: { max_connections_per_ip: 1, request_timeout_seconds: 2, headers_timeout_seconds: 1 },
        tls: { cert_path: cert, key_path: key },
      })
      const server = await startServer({ core, config: core.config, logger: silent })
      started.push({ server, core })
      expect(server.url).toMatch(/^https:/)
      const secure = tlsConnect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false })
      const opened = Date.now()
      const closed = new Promise<number>((resolve) => {
        secure.on('error', () => {})
        secure.resume()
        secure.on('close', () => resolve(Date.now() - opened))
      })
      await new Promise<void>((resolve) => secure.once('secureConnect', () => resolve()))
      secure.write('GET /health HTTP/1.1\r\n')
      // A second connection from the same address is closed before its handshake.
      const second = await new Promise<string>((resolve) => {
        const socket = tlsConnect({
          port: server.port,
          host: '127.0.0.1',
          rejectUnauthorized: false,
        })
        socket.on('secureConnect', () => {
          socket.destroy()
          resolve('handshake')
        })
        socket.on('error', () => resolve('refused'))
        socket.on('close', () => resolve('refused'))
      })
      expect(second).toBe('refused')
      // The first, never finishing its headers, is cut off by the headers timeout.
      expect(await closed).toBeLessThan(4000)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 10_000)

  test("the request budget is keyed on an untrusted peer's address, not its X-Forwarded-For", async () => {
    const server = await serve(
      { trust_proxy: true, trusted_proxies: ['192.0.2.0/24'] },
      { requests_per_minute: 3 },
    )
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${server.url}/auth/jwks.json`, {
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
      })
      await res.arrayBuffer()
      statuses.push(res.status)
    }
    expect(statuses).toEqual([200, 200, 200, 429])
  })
})

describe('CORS and security headers on errors', () => {
  const SECURITY = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  }

  async function errors(app: Hono<AppEnv>, origin: string): Promise<Response[]> {
    const h = { origin }
    return [
      await app.request('/users/me', { headers: h }), // 401
      await app.request('/users/me', { headers: { ...h, authorization: 'Bearer nope' } }), // 401
      await app.request('/nope', { headers: h }), // 404
      await app.request('/auth/login', { headers: h }), // 405
      await app.request('/auth/login', {
        method: 'POST',
        headers: { ...h, 'content-type': 'text/plain' },
        body: 'x',
      }), // 415
      await app.request('/auth/login', {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: '{',
      }), // 400
      await app.request('/auth/login', {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'x'.repeat(70_000), password: 'y' }),
      }), // 413
    ]
  }

  test('with allow-all CORS every error carries CORS, security and no-store headers', async () => {
    const { core, app } = await appWith({ api: { cors_allow_origins: ['*'] } })
    try {
      const responses = await errors(app, 'https://app.example')
      expect(responses.map((r) => r.status)).toEqual([401, 401, 404, 405, 415, 400, 413])
      for (const res of responses) {
        const label = `${res.status}`
        expect(res.headers.get('access-control-allow-origin'), label).toBe('*')
        expect(res.headers.get('access-control-expose-headers') ?? '', label).toMatch(
          /X-Request-Id/,
        )
        for (const [name, value] of Object.entries(SECURITY)) {
          expect(res.headers.get(name), `${label} ${name}`).toBe(value)
        }
        expect(res.headers.get('content-security-policy') ?? '', label).toMatch(
          /default-src 'none'/,
        )
        expect(res.headers.get('cache-control') ?? '', label).toMatch(/no-store/)
        expect(res.headers.has('strict-transport-security'), label).toBe(false)
        assertErrorEnvelope(await res.json(), res.headers.get('x-request-id'), label)
      }
    } finally {
      await core.close()
    }
  })

  test('with an allow-list, allowed origins are echoed on errors and others get no CORS grant', async () => {
    const { core, app } = await appWith({ api: { cors_allow_origins: ['https://app.example'] } })
    try {
      for (const res of await errors(app, 'https://app.example')) {
        expect(res.headers.get('access-control-allow-origin'), `${res.status}`).toBe(
          'https://app.example',
        )
        expect(res.headers.get('vary') ?? '').toMatch(/Origin/)
      }
      for (const res of await errors(app, 'https://evil.example')) {
        expect(res.headers.has('access-control-allow-origin'), `${res.status}`).toBe(false)
        expect(res.headers.get('x-frame-options')).toBe('DENY')
      }
      const preflight = await app.request('/users/me', {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      })
      expect(preflight.status).toBeLessThan(500)
      expect(preflight.headers.has('access-control-allow-origin')).toBe(false)
    } finally {
      await core.close()
    }
  })

  test('a request id that is not header-safe is replaced, never echoed', async () => {
    const { core, app } = await appWith({})
    try {
      for (const sent of ['a b', '"><script>', 'x'.repeat(200), 'id\u00e9']) {
        const res = await app.request('/nope', { headers: { 'x-request-id': sent } })
        const id = res.headers.get('x-request-id')
        expect(id).not.toBe(sent)
        expect(id).toMatch(/^[0-9a-f-]{36}$/)
        assertErrorEnvelope(await res.json(), id, 'insane request id')
      }
    } finally {
      await core.close()
    }
  })
})
