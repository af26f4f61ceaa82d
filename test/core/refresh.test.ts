import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ManualClock } from '../../src/lib/clock.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'

describe('refresh tokens (SPEC §4.3)', () => {
  let core: UsersCore
  let clock: ManualClock

  beforeEach(async () => {
    ;({ core, clock } = await createTestCore({ jwt: { refresh_reuse_grace_seconds: 10 } }))
    await core.createUser({ username: 'alice', password: GOOD_PASSWORD })
  })
  afterEach(() => core.close())

  it('rotates on every use: the new token works, and the response carries a fresh access token', async () => {
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD)
    const first = await core.refreshToken(login.refreshToken)
    expect(first.refreshToken).not.toBe(login.refreshToken)
    expect(first.accessToken).not.toBe(login.accessToken)
    const second = await core.refreshToken(first.refreshToken)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(second.user.username).toBe('alice')
  })

  it('answers a repeat inside the grace period with the identical new refresh token', async () => {
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD)
    const a = await core.refreshToken(login.refreshToken)
    clock.advance(9_000)
    const b = await core.refreshToken(login.refreshToken)
    expect(b.refreshToken).toBe(a.refreshToken)
    expect(b.accessToken).not.toBe(a.accessToken)
    // The session is still alive and the shared new token keeps rotating.
    await expect(core.refreshToken(a.refreshToken)).resolves.toBeDefined()
  })

  it('gives every concurrent refresh of one token the same new token, rotating once', async () => {
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD)
    const results = await Promise.all(
      Array.from({ length: 20 }, () => core.refreshToken(login.refreshToken)),
    )
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1)
    const events = await core.audit.list({ type: 'token.refreshed', limit: 100 })
    expect(events.total).toBe(1)
  })

  it('treats a replay after the grace period as theft: the whole session dies and is audited', async () => {
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD)
    const rotated = await core.refreshToken(login.refreshToken)
    const principal = await core.authenticateAccessToken(rotated.accessToken)
    clock.advance(11_000)
    await expect(core.refreshToken(login.refreshToken)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    })
    // Every token of the session is dead: the newest refresh token and its access token.
    await expect(core.refreshToken(rotated.refreshToken)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    })
    await expect(core.authenticateAccessToken(rotated.accessToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
    expect(await core.introspect(rotated.accessToken)).toEqual({ active: false })
    const reuse = await core.audit.list({ type: 'token.reuse_detected' })
    expect(reuse.items).toHaveLength(1)
    expect(reuse.items[0]?.details).toMatchObject({ session_id: principal.sessionId })
  })

  it('rejects garbage, unknown and expired tokens with INVALID_TOKEN', async () => {
    await expect(core.refreshToken('nope')).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
    await expect(
      core.refreshToken(`00000000-0000-4000-8000-000000000000.${'A'.repeat(43)}`),
    ).rejects.toMatchObject({ code: 'INVALID_TOKEN' })
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD)
    clock.advance(core.config.jwt.refresh_ttl_seconds * 1000 + 1)
    await expect(core.refreshToken(login.refreshToken)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    })
  })

  it('reports refresh_expires_in against the session, not the latest rotation', async () => {
    const login = await core.authenticatePassword('alice', GOOD_PASSWORD)
    expect(login.refreshExpiresIn).toBe(core.config.jwt.refresh_ttl_seconds)
    clock.advance(100_000)
    const r = await core.refreshToken(login.refreshToken)
    expect(r.refreshExpiresIn).toBe(core.config.jwt.refresh_ttl_seconds - 100)
  })
})

describe('revocation (SPEC §4.3–4.4)', () => {
  let core: UsersCore

  beforeEach(async () => {
    ;({ core } = await createTestCore())
  })
  afterEach(() => core.close())

  it('logout revokes the session and its access token; all_sessions revokes every session', async () => {
    const user = await core.createUser({ username: 'bob', password: GOOD_PASSWORD })
    const one = await core.authenticatePassword('bob', GOOD_PASSWORD)
    const two = await core.authenticatePassword('bob', GOOD_PASSWORD)
    const three = await core.authenticatePassword('bob', GOOD_PASSWORD)
    await core.logout(await core.authenticateAccessToken(one.accessToken))
    await expect(core.authenticateAccessToken(one.accessToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
    await expect(core.refreshToken(one.refreshToken)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    })
    expect(await core.sessions.list(user.id)).toHaveLength(2)
    await core.logout(await core.authenticateAccessToken(two.accessToken), { allSessions: true })
    await expect(core.authenticateAccessToken(three.accessToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
    expect(await core.sessions.list(user.id)).toHaveLength(0)
  })

  it('a password change, a reset, deactivation and deletion revoke sessions', async () => {
    const user = await core.createUser({ username: 'carol', password: GOOD_PASSWORD })
    const check = async (action: () => Promise<unknown>) => {
      const login = await core.authenticatePassword('carol', GOOD_PASSWORD)
      await action()
      await expect(core.authenticateAccessToken(login.accessToken)).rejects.toMatchObject({
        code: 'UNAUTHORIZED',
      })
      await expect(core.refreshToken(login.refreshToken)).rejects.toMatchObject({
        code: 'INVALID_TOKEN',
      })
    }
    await check(() => core.users.changePassword(user.id, GOOD_PASSWORD, GOOD_PASSWORD))
    await check(() => core.users.resetPassword(user.id, GOOD_PASSWORD))
    await check(async () => {
      await core.users.update(user.id, { active: false })
      await core.users.update(user.id, { active: true })
    })
    await check(() => core.users.delete(user.id))
  })

  it('reads current roles from the database, not from the token', async () => {
    const user = await core.createUser({
      username: 'dave',
      password: GOOD_PASSWORD,
      roles: ['admin'],
    })
    await core.createUser({ username: 'root2', password: GOOD_PASSWORD, roles: ['admin'] })
    const login = await core.authenticatePassword('dave', GOOD_PASSWORD)
    await core.users.setRoles(user.id, ['user'])
    const principal = await core.authenticateAccessToken(login.accessToken)
    expect(principal.user.roles).toEqual(['user'])
  })
})
