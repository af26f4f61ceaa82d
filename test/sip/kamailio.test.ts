import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { decodeJwt, decodeProtectedHeader, importPKCS8, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js'
import {
  bearerRegisterScenario,
  digestRegisterScenario,
  type KamailioProcess,
  missingSipTools,
  runSipp,
  sipRequest,
  startKamailio,
} from './sip-tools.js'

// The shipped examples/kamailio/kamailio.cfg, run by real Kamailio against a real users-core, with
// real sipp as the phone. Under CI the tools must be there (.ci/run installs them).
const missing = missingSipTools()
if (missing && process.env.CI) throw new Error(`the Kamailio test needs its tools: ${missing}`)

const ADMIN_PASSWORD = 'Tr0ub4dor-Zephyr-9'
const ALICE_PASSWORD = 'Quartz-Meadow-71'

const MODES = [
  {
    mode: 'POST /sip/digest/verify',
    defines: {},
    adminOwnedKey: false,
    audit: 'sip.auth.succeeded',
  },
  {
    mode: 'GET /sip/ha1 + pv_auth_check',
    defines: { WITH_HA1_LOOKUP: '1' },
    adminOwnedKey: true,
    audit: 'sip.ha1_read',
  },
]

describe.skipIf(missing !== undefined).each(MODES)(
  `Kamailio + sipp against users-core, digest by $mode${missing ? ` (skipped: ${missing})` : ''}`,
  ({ defines, adminOwnedKey, audit }) => {
    let server: ServerProcess
    let kamailio: KamailioProcess
    let adminToken: string
    let alice: { id: string; token: string }
    let databaseFile: string
    let phone: { id: string; sipUsername: string; secret: string }

    const api = async (method: string, path: string, token: string | undefined, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : undefined }
    }
    const login = async (username: string, password: string) => {
      const res = await api('POST', '/auth/login', undefined, { username, password })
      expect(res.status).toBe(200)
      return res.body.access_token as string
    }
    const newCredential = async (label: string) => {
      const res = await api('POST', `/users/${alice.id}/sip-credentials`, alice.token, { label })
      expect(res.status).toBe(201)
      return {
        id: res.body.credential.id,
        sipUsername: res.body.credential.sip_username,
        secret: res.body.secret,
      }
    }
    const digestRegister = (sipUsername: string, secret: string, expected: number) =>
      runSipp(kamailio.port, digestRegisterScenario(expected), [
        '-s',
        sipUsername,
        '-au',
        sipUsername,
        '-ap',
        secret,
      ])
    const bearerRegister = (token: string, expected: number, aor = 'alice') =>
      runSipp(kamailio.port, bearerRegisterScenario(expected), ['-s', aor, '-key', 'token', token])

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'users-core-sip-'))
      databaseFile = join(dir, 'users.db')
      server = await startServerProcess({
        USERS_CORE_DATABASE_URL: `sqlite://${databaseFile}`,
        USERS_CORE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      })
      adminToken = await login('admin', ADMIN_PASSWORD)
      const created = await api('POST', '/users', adminToken, {
        username: 'alice',
        password: ALICE_PASSWORD,
      })
      expect(created.status).toBe(201)
      alice = { id: created.body.id, token: await login('alice', ALICE_PASSWORD) }
      phone = await newCredential('desk')
      // The registrar's service account: a plain user whose key holds only `sip`.
      const registrar = await api('POST', '/users', adminToken, {
        username: 'kamailio',
        password: ALICE_PASSWORD,
      })
      const owner = adminOwnedKey
        ? (await api('GET', '/users/me', adminToken)).body.id
        : registrar.body.id
      const key = await api('POST', `/users/${owner}/api-keys`, adminToken, {
        name: 'registrar',
        permissions: ['sip'],
      })
      expect(key.status).toBe(201)
      kamailio = await startKamailio({
        USERS_CORE_URL: `"${server.url}"`,
        USERS_CORE_SIP_KEY: `"${key.body.key}"`,
        NONCE_SECRET: '"test nonce secret, long and random in production"',
        ...defines,
      })
    }, 30_000)

    afterAll(async () => {
      await kamailio?.stop()
      await server?.stop()
    })

    const explain = (r: { code: number | null; output: string }) =>
      `${r.output}\n--- kamailio:\n${kamailio.stderr().slice(-4000)}`

    test('digest (MD5, qop=auth) with the right secret: 200 OK, and the credential shows its use', async () => {
      const result = await digestRegister(phone.sipUsername, phone.secret, 200)
      expect(result.code, explain(result)).toBe(0)
      const list = await api('GET', `/users/${alice.id}/sip-credentials`, alice.token)
      expect(list.body.find((c: { id: string }) => c.id === phone.id).last_used_at).not.toBeNull()
      const events = await api('GET', `/audit-events?type=${audit}`, adminToken)
      expect(events.body.length).toBeGreaterThan(0)
    })

    test('digest with a wrong secret: 403', async () => {
      const result = await digestRegister(phone.sipUsername, `${phone.secret}x`, 403)
      expect(result.code, explain(result)).toBe(0)
    })

    test('digest for a name users-core does not know: 403, like a wrong secret', async () => {
      const result = await digestRegister('nobody-here', phone.secret, 403)
      expect(result.code, explain(result)).toBe(0)
    })

    test('a revoked credential is refused', async () => {
      const spare = await newCredential('spare')
      expect((await digestRegister(spare.sipUsername, spare.secret, 200)).code).toBe(0)
      expect((await api('DELETE', `/sip-credentials/${spare.id}`, alice.token)).status).toBe(204)
      const result = await digestRegister(spare.sipUsername, spare.secret, 403)
      expect(result.code, explain(result)).toBe(0)
    })

    test('Bearer access token with sip.register: 200 OK', async () => {
      const result = await bearerRegister(alice.token, 200)
      expect(result.code, explain(result)).toBe(0)
    })

    test('Bearer token of another user for alice: 403', async () => {
      const result = await bearerRegister(adminToken, 403)
      expect(result.code, explain(result)).toBe(0)
    })

    test('a tampered token: 401 with WWW-Authenticate: Bearer error="invalid_token"', async () => {
      const tampered = `${alice.token.slice(0, -4)}AAAA`
      const result = await bearerRegister(tampered, 401)
      expect(result.code, explain(result)).toBe(0)
    })

    test('an expired token, signed by the server key itself: 401 with a Bearer challenge', async () => {
      // The server's key straight from its database (unsealed here), so only `exp` is wrong.
      const { kid } = decodeProtectedHeader(alice.token)
      const db = new Database(databaseFile, { readonly: true })
      const row = db.prepare('select private_key from signing_keys where kid = ?').get(kid) as {
        private_key: string
      }
      db.close()
      const now = Math.floor(Date.now() / 1000)
      const expired = await new SignJWT({
        ...decodeJwt(alice.token),
        iat: now - 3600,
        nbf: now - 3600,
        exp: now - 60,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: kid as string })
        .sign(await importPKCS8(row.private_key, 'ES256'))
      const result = await bearerRegister(expired, 401)
      expect(result.code, explain(result)).toBe(0)
    })

    test('a logged-out token: 401 with a Bearer challenge', async () => {
      const token = await login('alice', ALICE_PASSWORD)
      expect((await bearerRegister(token, 200)).code).toBe(0)
      expect((await api('POST', '/auth/logout', token, {})).status).toBe(204)
      const result = await bearerRegister(token, 401)
      expect(result.code, explain(result)).toBe(0)
    })

    test('a hostile Authorization header is answered by Kamailio, never forwarded as broken JSON', async () => {
      const register = (authorization: string) =>
        [
          `REGISTER sip:127.0.0.1:${kamailio.port} SIP/2.0`,
          'Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK-hostile',
          'From: <sip:alice-desk@127.0.0.1>;tag=1',
          'To: <sip:alice-desk@127.0.0.1>',
          'Call-ID: hostile',
          'CSeq: 1 REGISTER',
          'Max-Forwards: 70',
          `Authorization: ${authorization}`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n')
      const quoted = `Digest username="alice-desk", realm="rvoip", nonce="1.2", uri="sip:a\\"},{\\"x", response="${'0'.repeat(32)}"`
      const reply = await sipRequest(kamailio.port, register(quoted), 3000)
      expect(reply).toMatch(/^SIP\/2\.0 (400|401|403)/)
      const forged = `Digest username="alice-desk", realm="rvoip", nonce="1.forged", uri="sip:a", response="${'0'.repeat(32)}"`
      // A nonce Kamailio did not issue is refused or re-challenged before any digest check.
      expect(await sipRequest(kamailio.port, register(forged), 3000)).toMatch(
        /^SIP\/2\.0 (401|403)/,
      )
    })

    // Last: deactivation ends every credential and token of the user.
    test('a deactivated user: digest and Bearer both refused', async () => {
      const token = await login('alice', ALICE_PASSWORD)
      expect((await api('PUT', `/users/${alice.id}`, adminToken, { active: false })).status).toBe(
        200,
      )
      const digest = await digestRegister(phone.sipUsername, phone.secret, 403)
      expect(digest.code, explain(digest)).toBe(0)
      const bearer = await bearerRegister(token, 401)
      expect(bearer.code, explain(bearer)).toBe(0)
    })
  },
)
