// SPEC §2 and §8: no password, token, API key, hash or key-encryption secret ever reaches a log
// line or an audit row. A realistic session runs with trace logging and the access log on, then
// every line, every listed event and every raw audit row is searched for every secret used.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import BetterSqlite3 from 'better-sqlite3'
import { expect, test } from 'vitest'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/lib/logger.js'
import { createTestCore } from '../helpers/create-test-core.js'
import { totpAt } from '../mfa/rfc6238.js'

const KEY_ENCRYPTION_SECRET = 'kek-Vanilla-Thunder-Orbit-8842'
const ADMIN_PASSWORD = 'Admin-Saffron-Glacier-31'
const P1 = 'First-Marigold-Anvil-17'
const P2 = 'Second-Walnut-Comet-28'
const P3 = 'Third-Pebble-Lagoon-39'
const TYPO = 'Typo-Maroon-Falcon-40'

test('a realistic session leaves no secret in logs or audit rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'users-core-secrets-'))
  const dbPath = join(dir, 'users.db')
  const lines: string[] = []
  const logger = createLogger(
    'trace',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk))
        done()
      },
    }),
  )
  const { core, clock } = await createTestCore(
    {
      database_url: `sqlite://${dbPath}`,
      log_level: 'trace',
      jwt: { key_encryption_secret: KEY_ENCRYPTION_SECRET, refresh_reuse_grace_seconds: 5 },
      bootstrap: { admin_username: 'root', admin_password: ADMIN_PASSWORD },
      rate_limit: { max_failed_logins: 3 },
    },
    { logger },
  )
  const app = createApp(core, { logger })
  const secrets = new Map<string, string>([
    ['key_encryption_secret', KEY_ENCRYPTION_SECRET],
    ['admin password', ADMIN_PASSWORD],
    ['P1', P1],
    ['P2', P2],
    ['P3', P3],
    ['typo password', TYPO],
  ])
  const keep = (name: string, value: unknown) => {
    if (typeof value === 'string' && value.length > 0) secrets.set(name, value)
  }
  const call = async (
    path: string,
    init: {
      method?: string
      body?: unknown
      token?: string
      apiKey?: string
      form?: string
      ip?: string
    } = {},
  ) => {
    const headers: Record<string, string> = { 'user-agent': 'secrets-test/1.0' }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    if (init.apiKey) headers['x-api-key'] = init.apiKey
    let body: string | undefined
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = init.form
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
    }
    const res = await app.request(
      path,
      {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(body === undefined ? {} : { body }),
      },
      { incoming: { socket: { remoteAddress: init.ip ?? '127.0.0.1' } } } as never,
    )
    const text = await res.text()
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
  }

  try {
    expect((await core.bootstrapAdmin()).created).toBe(true)
    const admin = await call('/auth/login', {
      body: { username: 'root', password: ADMIN_PASSWORD },
    })
    expect(admin.status).toBe(200)
    let adminToken = admin.json.access_token as string
    keep('admin access token', adminToken)
    keep('admin refresh token', admin.json.refresh_token)

    const created = await call('/users', {
      body: { username: 'alice', password: P1, email: 'alice@example.com' },
      token: adminToken,
    })
    expect(created.status).toBe(201)
    const aliceId = created.json.id as string
    // A weak password is refused; its text must not be echoed into logs either.
    const weak = await call('/users', {
      body: { username: 'weakling', password: 'lowercase-only-words' },
      token: adminToken,
    })
    expect(weak.status).toBeGreaterThanOrEqual(400)
    secrets.set('weak password', 'lowercase-only-words')

    // Log in, refresh twice (grace reuse, then a replay after the grace period).
    const login = await call('/auth/login', { body: { username: 'alice', password: P1 } })
    expect(login.status).toBe(200)
    keep('access 1', login.json.access_token)
    keep('refresh 1', login.json.refresh_token)
    const refreshed = await call('/auth/refresh', {
      body: { refresh_token: login.json.refresh_token },
    })
    expect(refreshed.status).toBe(200)
    keep('access 2', refreshed.json.access_token)
    keep('refresh 2', refreshed.json.refresh_token)
    const grace = await call('/auth/refresh', { body: { refresh_token: login.json.refresh_token } })
    keep('access 3', grace.json.access_token)
    clock.advance(60_000)
    const replay = await call('/auth/refresh', {
      body: { refresh_token: login.json.refresh_token },
    })
    expect(replay.status).toBe(401)

    // Failed logins: the password typed into the username field, the old password, a typo.
    for (const attempt of [
      { username: P1, password: 'x' },
      { username: TYPO, password: P1 },
      { username: 'alice', password: TYPO },
      { username: 'alice', password: TYPO },
      { username: 'alice', password: TYPO }, // locks (alice, this ip)
      { username: 'nobody', password: P1 },
    ]) {
      // From another address, so the lockout they cause does not stop the rest of the session.
      const res = await call('/auth/login', { body: attempt, ip: '192.0.2.66' })
      expect(res.status).toBeGreaterThanOrEqual(400)
    }
    clock.advance(3_600_000)
    const admin2 = await call('/auth/login', {
      body: { username: 'root', password: ADMIN_PASSWORD },
    })
    adminToken = admin2.json.access_token as string
    keep('admin access token 2', adminToken)
    keep('admin refresh token 2', admin2.json.refresh_token)

    // A fresh login, a password change, a wrong old password, an admin reset.
    const again = await call('/auth/login', { body: { username: 'alice', password: P1 } })
    expect(again.status).toBe(200)
    const aliceToken = again.json.access_token as string
    keep('access 4', aliceToken)
    keep('refresh 4', again.json.refresh_token)
    const wrongOld = await call(`/users/${aliceId}/password`, {
      body: { old_password: TYPO, new_password: P2 },
      token: aliceToken,
    })
    expect(wrongOld.status).toBe(401)
    const changed = await call(`/users/${aliceId}/password`, {
      body: { old_password: P1, new_password: P2 },
      token: aliceToken,
    })
    expect(changed.status).toBe(204)
    const second = await call('/auth/login', { body: { username: 'alice', password: P2 } })
    const aliceToken2 = second.json.access_token as string
    keep('access 5', aliceToken2)
    keep('refresh 5', second.json.refresh_token)

    // API keys: create, use in both headers, exchange, introspect, revoke.
    const createdKey = await call(`/users/${aliceId}/api-keys`, {
      body: { name: 'pbx-01', permissions: ['read', 'write'] },
      token: aliceToken2,
    })
    expect(createdKey.status).toBe(201)
    const apiKey = createdKey.json.key as string
    keep('api key', apiKey)
    const keyId = (createdKey.json.key_info as { id: string }).id
    expect((await call('/users/me', { apiKey })).status).toBe(200)
    expect((await call('/users/me', { token: apiKey })).status).toBe(200)
    const exchanged = await call('/auth/api-key/token', { method: 'POST', apiKey })
    keep('exchanged token', exchanged.json.access_token)
    for (const token of [apiKey, aliceToken2, exchanged.json.access_token as string]) {
      expect((await call('/auth/introspect', { body: { token }, token: adminToken })).status).toBe(
        200,
      )
    }
    await call('/auth/introspect', {
      form: `token=${encodeURIComponent(aliceToken2)}`,
      token: adminToken,
    })
    // Secrets in places they do not belong: the query string, a bad bearer, a malformed body.
    await call(`/users?search=${encodeURIComponent(P2)}`, { token: adminToken })
    await call('/users/me', { token: `${P2}.${apiKey}` })
    await call('/auth/login', { body: `{"username":"alice","password":"${P2}"` })
    await call('/auth/login', { body: { username: 'alice', password: P2, extra: apiKey } })
    expect(
      (await call(`/api-keys/${keyId}`, { method: 'DELETE', token: aliceToken2 })).status,
    ).toBe(204)
    expect((await call('/users/me', { apiKey })).status).toBe(401)

    // Second factors: a TOTP secret and recovery codes shown once, an MFA login with a wrong code
    // and a recovery code, then an admin turns MFA off again.
    const enrolled = await call(`/users/${aliceId}/mfa/totp`, { body: {}, token: aliceToken2 })
    expect(enrolled.status).toBe(200)
    const totpSecret = enrolled.json.secret as string
    keep('TOTP secret', totpSecret)
    keep('otpauth URI', enrolled.json.otpauth_uri)
    const confirmed = await call(`/users/${aliceId}/mfa/totp/confirm`, {
      body: { code: totpAt(totpSecret, clock.now()) },
      token: aliceToken2,
    })
    expect(confirmed.status).toBe(200)
    const recoveryCodes = confirmed.json.recovery_codes as string[]
    for (const [i, code] of recoveryCodes.entries()) keep(`recovery code ${i}`, code)
    const challenged = await call('/auth/login', { body: { username: 'alice', password: P2 } })
    expect(challenged.status).toBe(401)
    const mfaToken = (challenged.json.error as { details: { mfa_token: string } }).details.mfa_token
    keep('mfa_token', mfaToken)
    await call('/auth/mfa/verify', {
      body: { mfa_token: mfaToken, method: 'totp', code: '000000' },
    })
    const mfaLogin = await call('/auth/mfa/verify', {
      body: { mfa_token: mfaToken, method: 'recovery_code', code: recoveryCodes[0] },
    })
    expect(mfaLogin.status).toBe(200)
    keep('mfa access', mfaLogin.json.access_token)
    keep('mfa refresh', mfaLogin.json.refresh_token)
    expect(
      (await call(`/users/${aliceId}/mfa/totp`, { method: 'DELETE', token: adminToken })).status,
    ).toBe(204)

    // Admin reset, logout everywhere, role change, deactivation, key rotation.
    expect(
      (await call(`/users/${aliceId}/password`, { body: { new_password: P3 }, token: adminToken }))
        .status,
    ).toBe(204)
    const third = await call('/auth/login', { body: { username: 'alice', password: P3 } })
    keep('access 6', third.json.access_token)
    keep('refresh 6', third.json.refresh_token)
    await call('/auth/logout', {
      body: { all_sessions: true },
      token: third.json.access_token as string,
    })
    await call(`/users/${aliceId}/roles`, {
      body: { roles: ['user', 'operator'] },
      token: adminToken,
    })
    await call(`/users/${aliceId}`, { method: 'PUT', body: { active: false }, token: adminToken })
    await call('/admin/keys/rotate', { method: 'POST', token: adminToken })
    await call('/auth/logout', { method: 'POST', token: adminToken })

    // What is stored: Argon2 hashes, SHA-256 of keys and refresh tokens, sealed private keys.
    const db = new BetterSqlite3(dbPath, { readonly: true })
    try {
      for (const row of db.prepare('SELECT username, password_hash FROM users').all() as {
        username: string
        password_hash: string
      }[]) {
        expect(row.password_hash).toMatch(/^\$argon2id\$/)
        secrets.set(`argon2 hash of ${row.username}`, row.password_hash)
        // The salt+hash part alone is as bad as the whole PHC string.
        secrets.set(
          `argon2 digest of ${row.username}`,
          row.password_hash.split('$').at(-1) as string,
        )
      }
      for (const row of db.prepare('SELECT key_hash FROM api_keys').all() as {
        key_hash: string
      }[]) {
        secrets.set('api key hash', row.key_hash)
      }
      for (const row of db.prepare('SELECT refresh_hash FROM sessions').all() as {
        refresh_hash: string
      }[]) {
        secrets.set(`refresh hash ${row.refresh_hash.slice(0, 6)}`, row.refresh_hash)
      }
      for (const row of db.prepare('SELECT private_key FROM signing_keys').all() as {
        private_key: string
      }[]) {
        expect(row.private_key).not.toMatch(/BEGIN PRIVATE KEY/)
        secrets.set(`sealed private key ${row.private_key.slice(0, 6)}`, row.private_key.slice(-40))
      }

      // Fragments that make a credential: a token's signature, a key's random part.
      for (const [name, value] of [...secrets]) {
        if (/access|exchanged/.test(name))
          secrets.set(`${name} signature`, value.split('.')[2] as string)
        if (name === 'api key') secrets.set('api key secret part', value.slice(-24))
        if (/refresh \d/.test(name)) secrets.set(`${name} tail`, value.slice(-24))
      }

      const auditRows = db.prepare('SELECT * FROM audit_events').all()
      const listed = []
      for (let offset = 0; ; offset += 1000) {
        const page = await core.audit.list({ limit: 1000, offset })
        listed.push(...page.items)
        if (offset + page.items.length >= page.total) break
      }
      // The haystacks are real: the session produced what we search.
      // Every request was logged (the access log is on at trace level).
      expect(lines.filter((l) => l.includes('"msg":"request"')).length).toBeGreaterThan(30)
      expect(listed.length).toBeGreaterThan(20)
      expect(auditRows.length).toBe(listed.length)
      const types = new Set(listed.map((e) => e.type))
      for (const type of [
        'user.login.failed',
        'user.locked',
        'token.reuse_detected',
        'user.password_changed',
        'api_key.created',
        'api_key.revoked',
      ]) {
        expect(types, type).toContain(type)
      }

      const haystacks = {
        log: lines.join('\n'),
        'audit.list': JSON.stringify(listed),
        'audit_events table': JSON.stringify(auditRows),
      }
      const leaks: string[] = []
      for (const [where, text] of Object.entries(haystacks)) {
        for (const [name, secret] of secrets) {
          expect(secret.length, name).toBeGreaterThanOrEqual(8)
          if (text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1))) {
            leaks.push(`${name} in ${where}`)
          }
        }
      }
      expect(leaks).toEqual([])
      expect(secrets.size).toBeGreaterThan(30)
    } finally {
      db.close()
    }
  } finally {
    await core.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
