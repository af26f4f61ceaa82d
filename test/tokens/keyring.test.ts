import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import BetterSqlite3 from 'better-sqlite3'
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type ConfigInput, parseConfig } from '../../src/config/schema.js'
import type { Store } from '../../src/domain/store.js'
import { createManualClock, type ManualClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import { secureRandom } from '../../src/lib/random.js'
import { openStore } from '../../src/storage/open-store.js'
import { openPrivateKey } from '../../src/tokens/key-encryption.js'
import { PUBLISH_LEAD_SECONDS } from '../../src/tokens/key-schedule.js'
import { createKeyring, type Keyring, type KeyringDeps } from '../../src/tokens/keyring.js'
import { sealPrivateKeyV1 } from '../helpers/legacy-sealed-key.js'

const START = new Date('2026-03-01T12:00:00Z')
const SECRET = 'a long enough key encryption secret'
const USER = {
  id: '7b0f3c9e-8d1a-4f5e-9c2b-1a2b3c4d5e6f',
  username: 'alice',
  email: null,
  roles: ['user'],
}
const MIN = 60_000
const DAY = 86_400_000

let dir: string
let opened: { store: Store; keyrings: Keyring[] }[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'users-core-keyring-'))
  opened = []
})
afterEach(async () => {
  for (const o of opened) {
    for (const k of o.keyrings) k.close()
    await o.store.close()
  }
  rmSync(dir, { recursive: true, force: true })
})

async function openTestStore(url = 'sqlite::memory:'): Promise<Store> {
  const store = await openStore(parseConfig({ database_url: url }))
  await store.migrate()
  opened.push({ store, keyrings: [] })
  return store
}

const fileUrl = (name = 'users.db') => `sqlite://${join(dir, name)}`

async function startKeyring(
  store: Store,
  clock: ManualClock,
  jwt: ConfigInput['jwt'] = {},
  extra: Partial<KeyringDeps> = {},
): Promise<Keyring> {
  const keyring = createKeyring({
    store,
    jwt: parseConfig({ jwt: { algorithm: 'ES256', ...jwt } }).jwt,
    clock,
    random: secureRandom,
    logger: createLogger('silent'),
    reloadIntervalMs: 0,
    ...extra,
  })
  opened.find((o) => o.store === store)?.keyrings.push(keyring)
  await keyring.init()
  return keyring
}

async function issue(keyring: Keyring, sessionId = 'b2a7c1d0-0000-4000-8000-000000000001') {
  return (
    await keyring.issueAccessToken({ user: USER, sessionId, scope: 'openid', roles: ['user'] })
  ).token
}

/** What an outside validator does: jose against the published JWKS. */
function joseVerify(keyring: Keyring, token: string, clock: ManualClock) {
  return jwtVerify(token, createLocalJWKSet(keyring.jwks()), {
    issuer: 'https://users.rvoip.local',
    audience: 'rvoip-api',
    currentDate: clock.now(),
  })
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid
const kids = (keyring: Keyring) => keyring.jwks().keys.map((k) => k.kid)

describe('first start and restart', () => {
  it('creates a current and a pre-published next key on first start', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore()
    const keyring = await startKeyring(store, clock)
    const stored = await store.listSigningKeys()
    expect(stored).toHaveLength(2)
    const current = stored.find((k) => k.activatesAt !== null)
    const next = stored.find((k) => k.activatesAt === null)
    expect(current?.activatesAt).toEqual(START)
    expect(next).toBeDefined()
    expect(keyring.currentKid()).toBe(current?.kid)
    expect(keyring.list().map((k) => [k.kid, k.status])).toEqual([
      [current?.kid, 'current'],
      [next?.kid, 'next'],
    ])
    expect(kids(keyring)).toEqual([current?.kid, next?.kid])
    for (const jwk of keyring.jwks().keys) {
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' })
      expect(jwk).not.toHaveProperty('d')
      expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'))
    }
  })

  it('keeps the same keys across a restart on the same file', async () => {
    const clock = createManualClock(START)
    const first = await startKeyring(await openTestStore(fileUrl()), clock)
    const token = await issue(first)
    const before = first.jwks()
    clock.advance(MIN)
    const second = await startKeyring(await openTestStore(fileUrl()), clock)
    expect(second.currentKid()).toBe(first.currentKid())
    expect(second.jwks()).toEqual(before)
    expect((await second.verifyAccessToken(token)).sub).toBe(USER.id)
  })

  it('verifies its tokens and returns typed claims; API-key tokens carry no sid', async () => {
    const clock = createManualClock(START)
    const keyring = await startKeyring(await openTestStore(), clock)
    const claims = await keyring.verifyAccessToken(await issue(keyring))
    expect(claims).toMatchObject({ sub: USER.id, sid: expect.any(String), email: null })
    const apiKeyToken = await keyring.issueAccessToken({
      user: USER,
      apiKeyId: 'key-1',
      scope: 'openid',
      roles: [],
      ttlSeconds: 60,
    })
    const apiClaims = await keyring.verifyAccessToken(apiKeyToken.token)
    expect(apiClaims).not.toHaveProperty('sid')
    expect(apiClaims.api_key_id).toBe('key-1')
    expect(apiKeyToken.expiresAt.getTime() - apiKeyToken.issuedAt.getTime()).toBe(60_000)
  })

  it('refuses a ttl longer than access_ttl_seconds (retired keys are published only that long)', async () => {
    const keyring = await startKeyring(await openTestStore(), createManualClock(START))
    await expect(
      keyring.issueAccessToken({ user: USER, scope: 'openid', roles: [], ttlSeconds: 901 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' })
  })
})

describe('rotation', () => {
  it('publishes the next key before it signs, and old tokens verify after the rotation', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore()
    const keyring = await startKeyring(store, clock)
    const [oldKid, nextKid] = kids(keyring)
    const before = await issue(keyring)
    expect(kidOf(before)).toBe(oldKid)
    await joseVerify(keyring, before, clock)

    expect(await keyring.rotate()).toBe(true)
    // the next key was created at START: it may sign only once published for the lead time
    expect(keyring.currentKid()).toBe(oldKid)
    const newNext = kids(keyring).find((k) => k !== oldKid && k !== nextKid)
    expect(newNext).toBeDefined()
    expect(kids(keyring)).toEqual([oldKid, nextKid, newNext])
    clock.advance(PUBLISH_LEAD_SECONDS * 1000 - 1_000)
    expect(kidOf(await issue(keyring))).toBe(oldKid)
    clock.advance(1_000)
    const after = await issue(keyring)
    expect(kidOf(after)).toBe(nextKid)
    expect(keyring.list().map((k) => k.status)).toEqual(['current', 'next', 'retired'])

    for (const token of [before, after]) {
      await expect(joseVerify(keyring, token, clock)).resolves.toBeDefined()
      await expect(keyring.verifyAccessToken(token)).resolves.toBeDefined()
    }
  })

  it('activates at once a next key published long ago, and writes the audit event', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore()
    const keyring = await startKeyring(store, clock)
    const [oldKid, nextKid] = kids(keyring)
    clock.advance(DAY)
    expect(await keyring.rotate()).toBe(true)
    expect(keyring.currentKid()).toBe(nextKid)
    const retired = (await store.listSigningKeys()).find((k) => k.kid === oldKid)
    // retired until every token it signed has expired: activation + access ttl + 60 s margin
    expect(retired?.expiresAt).toEqual(new Date(START.getTime() + DAY + (900 + 60) * 1000))
    const events = await store.listAuditEvents({
      type: 'signing_key.rotated',
      limit: 10,
      offset: 0,
    })
    expect(events.items).toHaveLength(1)
    expect(events.items[0]?.details).toMatchObject({
      reason: 'requested',
      activated_kid: nextKid,
      retired_kid: oldKid,
    })
    expect(events.items[0]?.actor).toEqual({ type: 'system', id: null })
  })

  it('adds the rotation facts to an audit event the caller built', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore()
    const keyring = await startKeyring(store, clock)
    await keyring.rotate([
      {
        id: '0d6f5a8e-1111-4222-8333-444455556666',
        at: clock.now(),
        type: 'signing_key.rotated',
        actor: { type: 'user', id: USER.id },
        userId: null,
        ip: '10.0.0.1',
        userAgent: null,
        requestId: 'req-1',
        details: {},
      },
    ])
    const [event] = (await store.listAuditEvents({ limit: 10, offset: 0 })).items
    expect(event).toMatchObject({
      actor: { type: 'user', id: USER.id },
      requestId: 'req-1',
      details: { next_kid: expect.any(String), activated_kid: expect.any(String) },
    })
  })

  it('rotates every key_rotation_days, driven by the clock alone', async () => {
    const clock = createManualClock(START)
    const keyring = await startKeyring(await openTestStore(), clock, { key_rotation_days: 2 })
    const first = keyring.currentKid()
    expect(await keyring.rotateIfDue()).toBe(false)
    clock.advance(2 * DAY - 1)
    expect(await keyring.rotateIfDue()).toBe(false)
    clock.advance(1)
    expect(await keyring.rotateIfDue()).toBe(true)
    const second = keyring.currentKid()
    expect(second).not.toBe(first)
    expect(await keyring.rotateIfDue()).toBe(false)
    clock.advance(2 * DAY)
    expect(await keyring.rotateIfDue()).toBe(true)
    expect(keyring.currentKid()).not.toBe(second)
  })

  it('never rotates with key_rotation_days = 0', async () => {
    const clock = createManualClock(START)
    const keyring = await startKeyring(await openTestStore(), clock, { key_rotation_days: 0 })
    clock.advance(3650 * DAY)
    expect(await keyring.rotateIfDue()).toBe(false)
  })

  it('rotates at init when a rotation fell due while no instance ran', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore(fileUrl())
    const first = await startKeyring(store, clock, { key_rotation_days: 1 })
    const kid = first.currentKid()
    clock.advance(DAY + MIN)
    const second = await startKeyring(await openTestStore(fileUrl()), clock, {
      key_rotation_days: 1,
    })
    expect(second.currentKid()).not.toBe(kid)
    expect(await store.listSigningKeys()).toHaveLength(3)
  })

  it('two keyrings on one SQLite file due at once: exactly one rotates', async () => {
    const clock = createManualClock(START)
    const jwt = { key_rotation_days: 1 }
    const storeA = await openTestStore(fileUrl())
    const a = await startKeyring(storeA, clock, jwt)
    const b = await startKeyring(await openTestStore(fileUrl()), clock, jwt)
    clock.advance(DAY)
    const results = await Promise.all([a.rotateIfDue(), b.rotateIfDue()])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await storeA.listSigningKeys()).toHaveLength(3)
    const events = await storeA.listAuditEvents({
      type: 'signing_key.rotated',
      limit: 10,
      offset: 0,
    })
    expect(events.total).toBe(1)
    expect(a.currentKid()).toBe(b.currentKid())
    expect(a.jwks()).toEqual(b.jwks())
  })

  it('retires a key from the JWKS once its tokens have expired, and prunes it on reload', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore()
    const keyring = await startKeyring(store, clock)
    const oldKid = keyring.currentKid()
    const oldToken = await issue(keyring)
    clock.advance(DAY)
    await keyring.rotate()
    clock.advance((900 + 60) * 1000 - 1)
    expect(kids(keyring)).toContain(oldKid)
    clock.advance(1)
    expect(kids(keyring)).not.toContain(oldKid)
    expect(keyring.list().map((k) => k.kid)).not.toContain(oldKid)
    await expect(keyring.verifyAccessToken(oldToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
    await keyring.reload()
    expect((await store.listSigningKeys()).map((k) => k.kid)).not.toContain(oldKid)
  })

  it('two rotations in a row keep every key that may sign published, in order', async () => {
    const clock = createManualClock(START)
    const keyring = await startKeyring(await openTestStore(), clock)
    const [k0, k1] = kids(keyring)
    clock.advance(DAY)
    await keyring.rotate()
    expect(keyring.currentKid()).toBe(k1)
    const k2 = kids(keyring).find((k) => k !== k0 && k !== k1) as string
    await keyring.rotate()
    // k2 was published just now: k1 keeps signing for 300 s
    expect(keyring.currentKid()).toBe(k1)
    const t1 = await issue(keyring)
    clock.advance(PUBLISH_LEAD_SECONDS * 1000)
    expect(keyring.currentKid()).toBe(k2)
    await expect(keyring.verifyAccessToken(t1)).resolves.toBeDefined()
    expect(keyring.list().map((k) => k.status)).toEqual(['current', 'next', 'retired', 'retired'])
  })

  it('refuses to rotate a private_key_file key', async () => {
    const path = join(dir, 'key.pem')
    const { privateKey } = generateKeyPairSync('ed25519')
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const store = await openTestStore()
    const clock = createManualClock(START)
    const keyring = await startKeyring(store, clock, { algorithm: 'EdDSA', private_key_file: path })
    expect(keyring.jwks().keys).toHaveLength(1)
    const token = await issue(keyring)
    await expect(joseVerify(keyring, token, clock)).resolves.toBeDefined()
    expect(kidOf(token)).toBe(keyring.currentKid())
    await expect(keyring.rotate()).rejects.toMatchObject({ code: 'CONFLICT' })
    clock.advance(3650 * DAY)
    expect(await keyring.rotateIfDue()).toBe(false)
    expect(await store.listSigningKeys()).toEqual([])
  })

  it('fails at init when private_key_file does not suit the algorithm', async () => {
    const path = join(dir, 'key.pem')
    const { privateKey } = generateKeyPairSync('ed25519')
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }))
    await expect(
      startKeyring(await openTestStore(), createManualClock(START), {
        algorithm: 'RS256',
        private_key_file: path,
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' })
  })
})

describe('several instances', () => {
  it('sees another instance rotation on reload and on an unknown kid (rate-limited)', async () => {
    const clock = createManualClock(START)
    const a = await startKeyring(await openTestStore(fileUrl()), clock)
    const storeB = await openTestStore(fileUrl())
    const b = await startKeyring(storeB, clock)
    clock.advance(DAY)
    await a.rotate()
    await a.rotate() // a's newest key is one b has never seen
    clock.advance(PUBLISH_LEAD_SECONDS * 1000)
    const token = await issue(a)
    expect(b.jwks().keys.map((k) => k.kid)).not.toContain(kidOf(token))

    const list = vi.spyOn(storeB, 'listSigningKeys')
    await expect(b.verifyAccessToken(token)).resolves.toMatchObject({ sub: USER.id })
    expect(list).toHaveBeenCalledTimes(1)
    expect(b.currentKid()).toBe(a.currentKid())

    // junk kids: at most one reload per 5 s
    const junk = `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'nope' })).toString('base64url')}.e30.sig`
    for (let i = 0; i < 3; i++) {
      await expect(b.verifyAccessToken(junk)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    }
    expect(list).toHaveBeenCalledTimes(1)
    clock.advance(5_000)
    await expect(b.verifyAccessToken(junk)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    expect(list).toHaveBeenCalledTimes(2)
  })

  it('a plain reload picks up the other instance rotation', async () => {
    const clock = createManualClock(START)
    const a = await startKeyring(await openTestStore(fileUrl()), clock)
    const b = await startKeyring(await openTestStore(fileUrl()), clock)
    clock.advance(DAY)
    await a.rotate()
    expect(b.currentKid()).not.toBe(a.currentKid())
    await b.reload()
    expect(b.currentKid()).toBe(a.currentKid())
    expect(b.jwks()).toEqual(a.jwks())
  })
})

describe('key_encryption_secret', () => {
  it('stores keys as enc:v2 with no PEM text in the database, and reopens them', async () => {
    const clock = createManualClock(START)
    const path = join(dir, 'sealed.db')
    const store = await openTestStore(`sqlite://${path}`)
    const keyring = await startKeyring(store, clock, { key_encryption_secret: SECRET })
    clock.advance(DAY)
    await keyring.rotate()
    const stored = await store.listSigningKeys()
    expect(stored).toHaveLength(3)
    for (const key of stored) expect(key.privateKey).toMatch(/^enc:v2:/)
    // The exact plaintext of every key, as PEM base64 text and as DER bytes: a fixed
    // marker such as "MII" turns up by chance in random pages and made this test flaky.
    const plaintexts = await Promise.all(
      stored.map((key) => openPrivateKey(key.privateKey, SECRET, key.kid)),
    )
    const leaks = plaintexts.flatMap((pem) => {
      const base64 = pem.replace(/-----[^-]+-----|\s/g, '')
      return [base64, Buffer.from(base64, 'base64').toString('latin1')]
    })
    for (const file of [path, `${path}-wal`]) {
      if (!existsSync(file)) continue
      const bytes = readFileSync(file).toString('latin1')
      expect(bytes).not.toContain('PRIVATE KEY')
      for (const leak of leaks) expect(bytes.includes(leak)).toBe(false)
    }
    const again = await startKeyring(await openTestStore(`sqlite://${path}`), clock, {
      key_encryption_secret: SECRET,
    })
    await expect(again.verifyAccessToken(await issue(keyring))).resolves.toBeDefined()
    expect(kidOf(await issue(again))).toBe(keyring.currentKid())
  })

  it('fails start-up clearly with a wrong or missing secret, never echoing it', async () => {
    const clock = createManualClock(START)
    await startKeyring(await openTestStore(fileUrl()), clock, { key_encryption_secret: SECRET })
    const wrong = 'another secret of enough length'
    const error = await startKeyring(await openTestStore(fileUrl()), clock, {
      key_encryption_secret: wrong,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringMatching(/key_encryption_secret does not match/),
    })
    expect((error as Error).message).not.toContain(wrong)
    await expect(startKeyring(await openTestStore(fileUrl()), clock)).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringMatching(/key_encryption_secret is not set/),
    })
  })

  it('still loads keys stored plain before the secret was set, says so, and seals new ones', async () => {
    const clock = createManualClock(START)
    const store = await openTestStore(fileUrl())
    const plain = await startKeyring(store, clock)
    const token = await issue(plain)
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const sealed = await startKeyring(
      await openTestStore(fileUrl()),
      clock,
      { key_encryption_secret: SECRET },
      { logger: createLogger('warn', sink) },
    )
    await expect(sealed.verifyAccessToken(token)).resolves.toBeDefined()
    expect(lines.join('')).toMatch(/stored unencrypted/)
    expect(lines.join('')).not.toContain(SECRET)
    clock.advance(DAY)
    await sealed.rotate()
    const stored = await store.listSigningKeys()
    expect(stored.filter((k) => k.privateKey.startsWith('enc:v2:'))).toHaveLength(1)
  })

  it('a sealed key copied onto another key row does not open (AAD names the kid)', async () => {
    const clock = createManualClock(START)
    await startKeyring(await openTestStore(fileUrl()), clock, { key_encryption_secret: SECRET })
    const db = new BetterSqlite3(join(dir, 'users.db'))
    const [a, b] = db.prepare('SELECT kid, private_key FROM signing_keys').all() as {
      kid: string
      private_key: string
    }[]
    db.prepare('UPDATE signing_keys SET private_key = ? WHERE kid = ?').run(a?.private_key, b?.kid)
    db.close()
    const error = await startKeyring(await openTestStore(fileUrl()), clock, {
      key_encryption_secret: SECRET,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INTERNAL_ERROR' })
    expect((error as Error).message).toContain(b?.kid)
  })

  it('keys sealed as enc:v1 still open, but not on another key row', async () => {
    const pems = new Map<string, string>()
    const clock = createManualClock(START)
    const store = await openTestStore(fileUrl())
    const first = await startKeyring(store, clock, { key_encryption_secret: SECRET })
    const token = await issue(first)
    const stored = await store.listSigningKeys()
    for (const key of stored)
      pems.set(key.kid, await openPrivateKey(key.privateKey, SECRET, key.kid))
    const db = new BetterSqlite3(join(dir, 'users.db'))
    const update = db.prepare('UPDATE signing_keys SET private_key = ? WHERE kid = ?')
    for (const [kid, pem] of pems) update.run(sealPrivateKeyV1(pem, SECRET), kid)
    const legacy = await startKeyring(await openTestStore(fileUrl()), clock, {
      key_encryption_secret: SECRET,
    })
    await expect(legacy.verifyAccessToken(token)).resolves.toBeDefined()
    expect(kidOf(await issue(legacy))).toBe(first.currentKid())
    // Copy one legacy row's sealed key onto the other: v1 has no kid in its AAD, so the key's own
    // thumbprint must catch it.
    const [a, b] = [...pems.keys()] as [string, string]
    const row = db.prepare('SELECT private_key FROM signing_keys WHERE kid = ?').get(a) as {
      private_key: string
    }
    update.run(row.private_key, b)
    db.close()
    await expect(
      startKeyring(await openTestStore(fileUrl()), clock, { key_encryption_secret: SECRET }),
    ).rejects.toMatchObject({ code: 'INTERNAL_ERROR' })
  })
})

describe('algorithm change', () => {
  it('moves signing to the configured algorithm, publishing first, keeping old keys until retired', async () => {
    const clock = createManualClock(START)
    const es = await startKeyring(await openTestStore(fileUrl()), clock, { algorithm: 'ES256' })
    clock.advance(DAY)
    const esToken = await issue(es)
    const store = await openTestStore(fileUrl())
    const ed = await startKeyring(store, clock, { algorithm: 'EdDSA' })
    // the EdDSA key is published now and signs once it has been published for 300 s
    expect(decodeProtectedHeader(await issue(ed)).alg).toBe('ES256')
    expect(ed.jwks().keys.map((k) => k.alg)).toContain('EdDSA')
    clock.advance(PUBLISH_LEAD_SECONDS * 1000)
    const edToken = await issue(ed)
    expect(decodeProtectedHeader(edToken).alg).toBe('EdDSA')
    for (const token of [esToken, edToken]) {
      await expect(ed.verifyAccessToken(token)).resolves.toBeDefined()
      await expect(joseVerify(ed, token, clock)).resolves.toBeDefined()
    }
    const next = (await store.listSigningKeys()).find((k) => k.activatesAt === null)
    expect(next?.algorithm).toBe('EdDSA')
    // a restart with the same configuration does not rotate again
    const count = (await store.listSigningKeys()).length
    await startKeyring(await openTestStore(fileUrl()), clock, { algorithm: 'EdDSA' })
    expect(await store.listSigningKeys()).toHaveLength(count)
  })
})

describe('background reload', () => {
  afterEach(() => vi.useRealTimers())

  it('re-reads the store every interval until closed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const clock = createManualClock(START)
    const store = await openTestStore()
    const keyring = await startKeyring(store, clock, {}, { reloadIntervalMs: 30_000 })
    const list = vi.spyOn(store, 'listSigningKeys')
    vi.advanceTimersByTime(30_000)
    await vi.waitFor(() => expect(list).toHaveBeenCalledTimes(1))
    keyring.close()
    vi.advanceTimersByTime(120_000)
    await new Promise((resolve) => setImmediate(resolve))
    expect(list).toHaveBeenCalledTimes(1)
  })
})
