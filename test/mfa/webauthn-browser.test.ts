import { createServer } from 'node:net'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { startServer } from '../../src/http/serve.js'
import { createLogger } from '../../src/lib/logger.js'
import { browserTest, CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.js'
import { GOOD_PASSWORD } from '../helpers/create-test-core.js'

// SPEC §12: a passkey as second factor, end to end in a real browser. Chromium's virtual
// authenticator (Chrome DevTools Protocol, WebAuthn domain) stands in for the security key; the
// browser itself builds and signs every WebAuthn message and the real server verifies them.
const TITLE =
  'registers a passkey and finishes a login with it in headless Chromium (CDP virtual authenticator)'

/** A free loopback port, so the configured origin names the port the server will bind. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

// The test page, served by the test at the server's own origin: raw navigator.credentials, with
// the base64url conversions a real client makes. Runs in the browser.
const PAGE = `<!doctype html><meta charset="utf-8"><title>mfa</title><script>
const b64 = {
  toBytes: (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=')), (c) => c.charCodeAt(0)),
  of: (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''),
}
const api = async (path, body, token) => {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}
window.register = async (userId, token, name) => {
  const options = await api('/users/' + userId + '/mfa/webauthn/options', {}, token)
  if (options.status !== 200) return { step: 'options', ...options }
  const o = options.body
  const credential = await navigator.credentials.create({ publicKey: {
    ...o, challenge: b64.toBytes(o.challenge), user: { ...o.user, id: b64.toBytes(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64.toBytes(c.id) })),
  } })
  return api('/users/' + userId + '/mfa/webauthn', { name, response: {
    id: credential.id, rawId: b64.of(credential.rawId), type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: b64.of(credential.response.clientDataJSON),
      attestationObject: b64.of(credential.response.attestationObject),
      transports: credential.response.getTransports() },
  } }, token)
}
const assert = async (o) => {
  const assertion = await navigator.credentials.get({ publicKey: {
    ...o, challenge: b64.toBytes(o.challenge),
    allowCredentials: o.allowCredentials.map((c) => ({ ...c, id: b64.toBytes(c.id) })),
  } })
  return { id: assertion.id, rawId: b64.of(assertion.rawId), type: assertion.type,
    clientExtensionResults: assertion.getClientExtensionResults(),
    response: { clientDataJSON: b64.of(assertion.response.clientDataJSON),
      authenticatorData: b64.of(assertion.response.authenticatorData),
      signature: b64.of(assertion.response.signature),
      userHandle: assertion.response.userHandle ? b64.of(assertion.response.userHandle) : null } }
}
window.login = async (username, password) => {
  const first = await api('/auth/login', { username, password })
  if (first.status !== 401 || first.body.error.code !== 'MFA_REQUIRED') return { step: 'login', ...first }
  const details = first.body.error.details
  const assertion = await assert(details.webauthn)
  const verified = await api('/auth/mfa/verify', { mfa_token: details.mfa_token, method: 'webauthn', assertion })
  // The same signed assertion under a second login's token: its challenge is not this one's.
  const again = await api('/auth/login', { username, password })
  const replay = await api('/auth/mfa/verify', { mfa_token: again.body.error.details.mfa_token, method: 'webauthn', assertion })
  return { methods: details.methods, allowed: details.webauthn.allowCredentials.length, verified, replay }
}
</script>`

describe('WebAuthn second factor in a browser', () => {
  const { skip, title, hasChromium } = browserTest(TITLE)

  it.skipIf(skip)(title, { timeout: 90_000 }, async () => {
    expect(hasChromium, `${CHROMIUM} must be installed when CI=true`).toBe(true)
    const port = await freePort()
    // public_url on localhost: the default RP ID is its host and the default origin is itself.
    const origin = `http://localhost:${port}`
    const logger = createLogger('silent')
    const config = parseConfig({
      database_url: 'sqlite::memory:',
      log_level: 'silent',
      api_bind_address: `127.0.0.1:${port}`,
      public_url: origin,
      password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
      jwt: { algorithm: 'ES256' },
    })
    expect(config.webauthn).toEqual({ rp_id: 'localhost', origins: [origin] })
    const core = await init(config, { logger })
    const server = await startServer({ core, config, logger })
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    try {
      const user = await core.createUser({ username: 'alice', password: GOOD_PASSWORD })
      const { accessToken } = await core.authenticatePassword('alice', GOOD_PASSWORD)
      const page = await browser.newPage()
      const problems: string[] = []
      page.on('pageerror', (error) => problems.push(error.message))
      await page.route(`${origin}/mfa-test`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: PAGE }),
      )
      const cdp = await page.context().newCDPSession(page)
      await cdp.send('WebAuthn.enable')
      const plugIn = async () =>
        (
          await cdp.send('WebAuthn.addVirtualAuthenticator', {
            options: {
              protocol: 'ctap2',
              transport: 'usb',
              hasResidentKey: false,
              hasUserVerification: true,
              isUserVerified: true,
              automaticPresenceSimulation: true,
            },
          })
        ).authenticatorId
      const register = (name: string) =>
        page.evaluate(
          ([id, token, label]) =>
            (
              globalThis as unknown as {
                register(a: string, b: string, c: string): Promise<unknown>
              }
            ).register(id, token, label),
          [user.id, accessToken, name] as const,
        )
      await page.goto(`${origin}/mfa-test`)

      // Two security keys: the first one registered, unplugged, then a second one.
      const first = await plugIn()
      const registered = await register('key one')
      expect(registered).toMatchObject({ status: 201, body: { factor: { type: 'webauthn' } } })
      const codes = (registered as { body: { recovery_codes: string[] } }).body.recovery_codes
      expect(codes).toHaveLength(10)
      expect(
        (await cdp.send('WebAuthn.getCredentials', { authenticatorId: first })).credentials,
      ).toHaveLength(1)
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first })
      const second = await plugIn()
      // Not the first factor: the printed recovery codes stand.
      expect(await register('key two')).toMatchObject({
        status: 201,
        body: { recovery_codes: null },
      })
      expect(
        (await cdp.send('WebAuthn.getCredentials', { authenticatorId: second })).credentials,
      ).toHaveLength(1)

      const result = (await page.evaluate(
        ([username, password]) =>
          (globalThis as unknown as { login(a: string, b: string): Promise<unknown> }).login(
            username,
            password,
          ),
        ['alice', GOOD_PASSWORD] as const,
      )) as {
        methods: string[]
        allowed: number
        verified: { status: number; body: { access_token: string } }
        replay: { status: number; body: { error: { code: string } } }
      }
      expect(result.methods).toEqual(['webauthn', 'recovery_code'])
      expect(result.allowed).toBe(2)
      expect(result.verified.status).toBe(200)
      const { payload } = await jwtVerify(
        result.verified.body.access_token,
        createLocalJWKSet(await core.jwks()),
        { issuer: config.jwt.issuer, audience: 'rvoip-api' },
      )
      expect(payload.amr).toEqual(['pwd', 'hwk'])
      expect(payload.sub).toBe(user.id)
      expect(result.replay.status).toBe(401)
      expect(result.replay.body.error.code).toBe('INVALID_CREDENTIALS')

      // Several authenticators per user, listed without their keys.
      const status = await core.mfa.status(user.id)
      expect(status.factors.map((f) => [f.type, f.name])).toEqual([
        ['webauthn', 'key one'],
        ['webauthn', 'key two'],
      ])
      // The second key signed the login: its use is recorded, the unplugged one's is not.
      expect(status.factors.map((f) => f.lastUsedAt !== null)).toEqual([false, true])
      expect(problems).toEqual([])
    } finally {
      await browser.close()
      await server.close()
    }
  })
})
