import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'

describe('access tokens against core.jwks() (SPEC §4.1–4.2)', () => {
  for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`${algorithm}: claims are complete and verify with jose, before and after a rotation`, async () => {
      const { core, clock } = await createTestCore({ jwt: { algorithm } })
      try {
        const u = await core.createUser({
          username: 'alice',
          password: GOOD_PASSWORD,
          email: 'a@example.com',
        })
        const before = await core.authenticatePassword('alice', GOOD_PASSWORD)
        const verify = async (token: string) =>
          jwtVerify(token, createLocalJWKSet(await core.jwks()), {
            issuer: 'https://users.rvoip.local',
            audience: 'rvoip-sip',
            currentDate: clock.now(),
          })
        const { payload, protectedHeader } = await verify(before.accessToken)
        expect(protectedHeader).toMatchObject({ alg: algorithm, typ: 'JWT' })
        expect(payload).toMatchObject({
          iss: 'https://users.rvoip.local',
          sub: u.id,
          aud: ['rvoip-api', 'rvoip-sip'],
          username: 'alice',
          email: 'a@example.com',
          roles: ['user'],
          scope: 'openid profile email sip.register',
        })
        for (const claim of ['exp', 'iat', 'nbf', 'jti', 'sid'])
          expect(payload).toHaveProperty(claim)
        await core.keys.rotate()
        clock.advance(311_000)
        const after = await core.authenticatePassword('alice', GOOD_PASSWORD)
        expect(decodeProtectedHeader(after.accessToken).kid).not.toBe(protectedHeader.kid)
        await expect(verify(after.accessToken)).resolves.toBeDefined()
        await expect(verify(before.accessToken)).resolves.toBeDefined()
      } finally {
        await core.close()
      }
    })
  }
})

describe('a file database across restarts', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'users-core-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps users and signing keys, runs no migration twice, and tokens stay valid', async () => {
    const url = `sqlite://${join(dir, 'users.db')}`
    const first = await createTestCore({ database_url: url })
    expect(first.core.migrations.applied.length).toBeGreaterThan(0)
    await first.core.createUser({ username: 'keeper', password: GOOD_PASSWORD })
    const login = await first.core.authenticatePassword('keeper', GOOD_PASSWORD)
    const jwksBefore = await first.core.jwks()
    await first.core.close()

    const second = await createTestCore({ database_url: url }, { clock: first.clock })
    try {
      expect(second.core.migrations.applied).toEqual([])
      expect(await second.core.jwks()).toEqual(jwksBefore)
      expect((await second.core.users.getByUsername('keeper'))?.username).toBe('keeper')
      await expect(second.core.authenticateAccessToken(login.accessToken)).resolves.toBeDefined()
      await expect(second.core.refreshToken(login.refreshToken)).resolves.toBeDefined()
    } finally {
      await second.core.close()
    }
  })

  it('audit verify passes, then fails after a row is edited or deleted', async () => {
    const path = join(dir, 'audit.db')
    const { core } = await createTestCore({ database_url: `sqlite://${path}` })
    let closed = false
    try {
      const u = await core.createUser({ username: 'audited', password: GOOD_PASSWORD })
      await core.authenticatePassword('audited', GOOD_PASSWORD)
      await core.users.update(u.id, { displayName: 'A' })
      const ok = await core.audit.verify()
      expect(ok.ok).toBe(true)
      expect(ok.checked).toBe(3)
      await core.close()
      closed = true

      const db = new Database(path)
      const edit = db.prepare("UPDATE audit_events SET ip = '6.6.6.6' WHERE seq = 2")
      expect(edit.run().changes).toBe(1)
      db.close()
      const { core: reopened } = await createTestCore({ database_url: `sqlite://${path}` })
      const bad = await reopened.audit.verify()
      expect(bad).toMatchObject({ ok: false, problem: { seq: 2 } })
      await reopened.close()

      const db2 = new Database(path)
      db2.prepare('UPDATE audit_events SET ip = NULL WHERE seq = 2').run()
      db2.prepare('DELETE FROM audit_events WHERE seq = 3').run()
      db2.close()
      const { core: again } = await createTestCore({ database_url: `sqlite://${path}` })
      const gap = await again.audit.verify()
      expect(gap.ok).toBe(false)
      await again.close()
    } finally {
      if (!closed) await core.close()
    }
  })
})

describe('audit retention', () => {
  let core: UsersCore
  afterEach(() => core.close())

  it('prunes events past retention and the remaining chain still verifies', async () => {
    const t = await createTestCore({ audit: { retention_days: 1 } })
    core = t.core
    await core.createUser({ username: 'old1', password: GOOD_PASSWORD })
    t.clock.advance(2 * 86_400_000)
    await core.createUser({ username: 'new1', password: GOOD_PASSWORD })
    expect(await core.audit.prune()).toBeGreaterThanOrEqual(1)
    const page = await core.audit.list()
    expect(page.items.map((e) => e.details.username)).toEqual(['new1'])
    expect((await core.audit.verify()).ok).toBe(true)
  })
})

describe('signing key rotations as core events', () => {
  it('every rotation this process applies is reported once: explicit and scheduled alike', async () => {
    const { core, clock } = await createTestCore({ jwt: { key_rotation_days: 1 } })
    try {
      const rotations: string[] = []
      core.subscribe((e) => {
        if (e.type === 'keys_rotated') rotations.push(e.kid)
      })
      await core.keys.rotate()
      expect(rotations).toHaveLength(1)
      // Not due yet: nothing happens, nothing is reported.
      expect(await core.keys.rotateIfDue()).toBe(false)
      expect(rotations).toHaveLength(1)
      clock.advance(2 * 86_400_000)
      expect(await core.keys.rotateIfDue()).toBe(true)
      expect(rotations).toHaveLength(2)
      // The reported kid is the key the rotation activated: it signs once its lead has passed.
      clock.advance(400_000)
      const [current] = await core.keys.list()
      expect(current?.kid).toBe(rotations[1])
    } finally {
      await core.close()
    }
  })
})
