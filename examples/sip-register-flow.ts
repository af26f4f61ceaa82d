// A SIP registrar that takes `Authorization: Bearer <jwt>` on REGISTER (RFC 8898) and trusts
// users-core only through its JWKS. It accepts a token signed by users-core whose `aud` includes
// `rvoip-sip` and whose scope has `sip.register`, and challenges everything else with
// `401 Unauthorized` + `WWW-Authenticate: Bearer`. The SIP parsing here is deliberately minimal
// (UDP, one message per datagram, no folding or compact headers): enough for the example.
//
//   npx tsx examples/sip-register-flow.ts                     starts its own users-core
//   npx tsx examples/sip-register-flow.ts URL USER PASSWORD   uses a running one
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import { startLocalUsersCore } from './shared/local-users-core.js'

const ISSUER = process.env.EXAMPLE_ISSUER ?? 'https://users.rvoip.local'
const REALM = 'rvoip'
const SIP_AUDIENCE = 'rvoip-sip'
const MAX_EXPIRES_SECONDS = 3600

// ---------------------------------------------------------------------------------------------
// Just enough SIP (RFC 3261 §7) to read a REGISTER and write a response.

interface SipRequest {
  method: string
  uri: string
  /** Header values by lower-case name, in order; Via may repeat. */
  headers: Map<string, string[]>
}

function parseSipRequest(text: string): SipRequest | undefined {
  const [head] = text.split('\r\n\r\n')
  const lines = (head ?? '').split('\r\n')
  const match = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(lines[0] ?? '')
  if (!match?.[1] || !match[2]) return undefined
  const headers = new Map<string, string[]>()
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) return undefined
    const name = line.slice(0, colon).trim().toLowerCase()
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()])
  }
  return { method: match[1], uri: match[2], headers }
}

function header(req: SipRequest, name: string): string | undefined {
  return req.headers.get(name.toLowerCase())?.[0]
}

function sipResponse(
  req: SipRequest,
  status: number,
  reason: string,
  extra: [string, string][] = [],
): string {
  const lines = [`SIP/2.0 ${status} ${reason}`]
  for (const via of req.headers.get('via') ?? []) lines.push(`Via: ${via}`)
  for (const name of ['From', 'To', 'Call-ID', 'CSeq']) {
    const value = header(req, name)
    if (value !== undefined) {
      // RFC 3261 §8.2.6.2: the UAS adds a tag to To when the request had none.
      const withTag =
        name === 'To' && !/;tag=/i.test(value)
          ? `${value};tag=${randomBytes(4).toString('hex')}`
          : value
      lines.push(`${name}: ${withTag}`)
    }
  }
  for (const [name, value] of extra) lines.push(`${name}: ${value}`)
  lines.push('Server: rvoip-example-registrar', 'Content-Length: 0', '', '')
  return lines.join('\r\n')
}

// ---------------------------------------------------------------------------------------------
// The registrar.

/** Starts a UDP registrar on 127.0.0.1 that validates Bearer tokens against `jwksUrl`. */
async function startRegistrar(jwksUrl: string): Promise<{ port: number; close(): Promise<void> }> {
  const jwks = createRemoteJWKSet(new URL(jwksUrl))
  const bindings = new Map<string, { contact: string; expiresAt: number }>()

  // RFC 6750 §3 challenge; `error` only when a token was presented.
  const challenge = (error?: string, description?: string): [string, string] => [
    'WWW-Authenticate',
    `Bearer realm="${REALM}"${error ? `, error="${error}"` : ''}${description ? `, error_description="${description}"` : ''}`,
  ]

  async function handle(req: SipRequest): Promise<string> {
    if (req.method !== 'REGISTER')
      return sipResponse(req, 405, 'Method Not Allowed', [['Allow', 'REGISTER']])
    const authorization = header(req, 'Authorization')
    const bearer = authorization && /^Bearer\s+(\S+)$/i.exec(authorization)?.[1]
    if (!bearer) return sipResponse(req, 401, 'Unauthorized', [challenge()])
    let claims: { sub?: string; username?: unknown; scope?: unknown }
    try {
      ;({ payload: claims } = await jwtVerify(bearer, jwks, {
        issuer: ISSUER,
        audience: SIP_AUDIENCE,
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        clockTolerance: 5,
      }))
    } catch (error) {
      const reason = error instanceof errors.JOSEError ? error.code : 'invalid'
      return sipResponse(req, 401, 'Unauthorized', [challenge('invalid_token', reason)])
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : []
    if (!scopes.includes('sip.register')) {
      return sipResponse(req, 403, 'Forbidden', [
        challenge('insufficient_scope', 'sip.register required'),
      ])
    }
    // The AOR in To must be the token's user: nobody registers someone else's phone.
    const aorUser = /sip:([^@;>]+)@/i.exec(header(req, 'To') ?? '')?.[1]
    if (aorUser?.toLowerCase() !== String(claims.username).toLowerCase()) {
      return sipResponse(req, 403, 'Forbidden')
    }
    const contact = header(req, 'Contact')
    if (!contact) return sipResponse(req, 400, 'Bad Request')
    const asked = Number(/;\s*expires=(\d+)/i.exec(contact)?.[1] ?? header(req, 'Expires') ?? 3600)
    const expires = Math.min(asked, MAX_EXPIRES_SECONDS)
    const bare = contact.replace(/;\s*expires=\d+/i, '')
    bindings.set(String(claims.sub), { contact: bare, expiresAt: Date.now() + expires * 1000 })
    return sipResponse(req, 200, 'OK', [
      ['Contact', `${bare};expires=${expires}`],
      ['Date', new Date().toUTCString()],
    ])
  }

  const socket: Socket = createSocket('udp4')
  socket.on('message', (msg, from) => {
    const req = parseSipRequest(msg.toString('utf8'))
    if (!req) return // RFC 3261 §16.3: drop what cannot be parsed.
    void handle(req).then((response) => socket.send(response, from.port, from.address))
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    port: (socket.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}

// ---------------------------------------------------------------------------------------------
// A phone (user agent) that sends one REGISTER and waits for the answer.

let cseq = 0
async function register(
  registrarPort: number,
  username: string,
  token: string | undefined,
): Promise<{ status: string; headers: string[] }> {
  const ua = createSocket('udp4')
  await new Promise<void>((resolve) => ua.bind(0, '127.0.0.1', resolve))
  const uaPort = (ua.address() as AddressInfo).port
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`
  const request = [
    `REGISTER sip:rvoip.local SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uaPort};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <sip:${username}@rvoip.local>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${username}@rvoip.local>`,
    `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.1`,
    `CSeq: ${++cseq} REGISTER`,
    `Contact: <sip:${username}@127.0.0.1:${uaPort}>;expires=600`,
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')
  const answer = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no SIP response within 3 s')), 3000)
    ua.once('message', (msg) => {
      clearTimeout(timer)
      resolve(msg.toString('utf8'))
    })
  })
  ua.send(request, registrarPort, '127.0.0.1')
  try {
    const [statusLine = '', ...headers] = (await answer).split('\r\n\r\n')[0]?.split('\r\n') ?? []
    return { status: statusLine, headers }
  } finally {
    ua.close()
  }
}

function show(label: string, res: { status: string; headers: string[] }, keep: string[]): void {
  console.log(`${label}: ${res.status}`)
  for (const line of res.headers) {
    if (keep.some((name) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))) {
      console.log(`    ${line}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------

const [argUrl, argUser, argPassword] = process.argv.slice(2)
const username = argUser ?? 'alice'
const password = argPassword ?? 'Sunflower-Meadow-7'
let base: string
let closeUsersCore = async () => {}
if (argUrl) {
  base = argUrl.replace(/\/+$/, '')
} else {
  const local = await startLocalUsersCore({ 'jwt.issuer': ISSUER })
  await local.core.createUser({ username, password })
  base = local.url
  closeUsersCore = local.close
}

const registrar = await startRegistrar(`${base}/.well-known/jwks.json`)
console.log(
  `registrar on udp://127.0.0.1:${registrar.port}, trusting ${base}/.well-known/jwks.json`,
)
try {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (res.status !== 200) throw new Error(`login failed: HTTP ${res.status}`)
  const { access_token: token } = (await res.json()) as { access_token: string }
  console.log(`logged in to users-core as ${username}`)

  const ok = await register(registrar.port, username, token)
  show('REGISTER with Bearer token', ok, ['Contact', 'CSeq', 'To'])
  const missing = await register(registrar.port, username, undefined)
  show('REGISTER without token', missing, ['WWW-Authenticate'])
  const [h, p, s = ''] = token.split('.')
  const tampered = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
  const bad = await register(registrar.port, username, tampered)
  show('REGISTER with tampered token', bad, ['WWW-Authenticate'])
  const otherAor = await register(registrar.port, 'bob', token)
  show("REGISTER of someone else's AOR", otherAor, [])

  const expect = [
    [ok.status, 'SIP/2.0 200 OK'],
    [missing.status, 'SIP/2.0 401 Unauthorized'],
    [bad.status, 'SIP/2.0 401 Unauthorized'],
    [otherAor.status, 'SIP/2.0 403 Forbidden'],
  ]
  for (const [got, want] of expect)
    if (got !== want) throw new Error(`expected ${want}, got ${got}`)
  console.log('done')
} finally {
  await registrar.close()
  await closeUsersCore()
}
