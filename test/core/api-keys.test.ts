import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ManualClock } from '../../src/lib/clock.js'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'

describe('API keys (SPEC §5)', () => {
  let core: UsersCore
  let clock: ManualClock

  beforeEach(async () => {
    ;({ core, clock } = await createTestCore())
  })
  afterEach(() => core.close())

  it('shows the key once, stores only a hash, and validates it', async () => {
    const owner = await core.createUser({ username: 'pbx', password: GOOD_PASSWORD })
    const { apiKey, key } = await core.apiKeys.create({
      userId: owner.id,
      name: 'pbx-1',
      permissions: ['read'],
    })
    expect(key).toMatch(/^rvoip_ak_live_[0-9A-Za-z]{32,}$/)
    expect(apiKey.keyPrefix).toBe(key.slice('rvoip_ak_live_'.length, 'rvoip_ak_live_'.length + 8))
    expect(JSON.stringify(await core.apiKeys.list(owner.id))).not.toContain(key)
    expect(await core.apiKeys.validate(key)).toMatchObject({ id: apiKey.id, name: 'pbx-1' })
    expect(await core.apiKeys.validate(`${key}x`)).toBeUndefined()
    expect(await core.apiKeys.validate('rvoip_ak_live_short')).toBeUndefined()
    const audit = JSON.stringify((await core.audit.list()).items)
    expect(audit).not.toContain(key)
  })

  it('rejects expired and revoked keys and keys of inactive owners', async () => {
    const owner = await core.createUser({ username: 'svc', password: GOOD_PASSWORD })
    const expiring = await core.apiKeys.create({
      userId: owner.id,
      name: 'short',
      permissions: ['read'],
      expiresAt: new Date(clock.now().getTime() + 60_000),
    })
    const revoked = await core.apiKeys.create({
      userId: owner.id,
      name: 'gone',
      permissions: ['read'],
    })
    const plain = await core.apiKeys.create({
      userId: owner.id,
      name: 'plain',
      permissions: ['read'],
    })
    await core.apiKeys.revoke(revoked.apiKey.id)
    expect(await core.apiKeys.validate(revoked.key)).toBeUndefined()
    clock.advance(61_000)
    expect(await core.apiKeys.validate(expiring.key)).toBeUndefined()
    expect(await core.apiKeys.validate(plain.key)).toBeDefined()
    await core.users.update(owner.id, { active: false })
    await expect(core.authenticateApiKey(plain.key)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('keeps names unique per owner among live keys', async () => {
    const owner = await core.createUser({ username: 'dup', password: GOOD_PASSWORD })
    const first = await core.apiKeys.create({ userId: owner.id, name: 'k', permissions: ['read'] })
    await expect(
      core.apiKeys.create({ userId: owner.id, name: 'k', permissions: ['read'] }),
    ).rejects.toMatchObject({ code: 'CONFLICT' })
    // Rotation by create-then-revoke frees the name once the old key is revoked.
    await core.apiKeys.revoke(first.apiKey.id)
    await expect(
      core.apiKeys.create({ userId: owner.id, name: 'k', permissions: ['read'] }),
    ).resolves.toBeDefined()
  })

  it('grants nothing its creator lacks', async () => {
    const user = await core.createUser({ username: 'plainuser', password: GOOD_PASSWORD })
    const login = await core.authenticatePassword('plainuser', GOOD_PASSWORD)
    const me = await core.authenticateAccessToken(login.accessToken)
    for (const permissions of [['admin'], ['*']] as const) {
      await expect(
        core.apiKeys.create(
          { userId: user.id, name: `x${permissions[0]}`, permissions: [...permissions] },
          { actor: me },
        ),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    }
    const readOnly = await core.apiKeys.create(
      { userId: user.id, name: 'ro', permissions: ['read'] },
      { actor: me },
    )
    const asKey = await core.authenticateApiKey(readOnly.key)
    await expect(
      core.apiKeys.create(
        { userId: user.id, name: 'rw', permissions: ['read', 'write'] },
        { actor: asKey },
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('exchanges a key for a short-lived access token cut to its permissions', async () => {
    const admin = await core.createUser({
      username: 'boss',
      password: GOOD_PASSWORD,
      roles: ['admin'],
    })
    const ro = await core.apiKeys.create({ userId: admin.id, name: 'ro', permissions: ['read'] })
    const full = await core.apiKeys.create({ userId: admin.id, name: 'full', permissions: ['*'] })
    const cut = await core.apiKeys.exchange(ro.key)
    expect(cut).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 })
    expect(cut.scope).not.toContain('admin')
    expect(cut).not.toHaveProperty('refreshToken')
    const principal = await core.authenticateAccessToken(cut.accessToken)
    expect(principal.sessionId).toBeUndefined()
    expect(principal.permissions).toEqual(['read'])
    expect((await core.apiKeys.exchange(full.key)).scope).toContain('admin')
    const info = await core.introspect(cut.accessToken)
    expect(info).toMatchObject({ active: true, sid: null, roles: ['user'].filter(() => false) })
    // Revoking the key kills the tokens minted from it, as far as users-core is concerned.
    await core.apiKeys.revoke(ro.apiKey.id)
    await expect(core.authenticateAccessToken(cut.accessToken)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    })
  })

  it('minted tokens carry the key permissions; admin only with write; a key allowing no method gets none', async () => {
    const admin = await core.createUser({
      username: 'chief',
      password: GOOD_PASSWORD,
      roles: ['admin'],
    })
    const make = async (name: string, permissions: ('read' | 'write' | 'admin')[]) =>
      (await core.apiKeys.create({ userId: admin.id, name, permissions })).key
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
    await expect(core.apiKeys.exchange(await make('a', ['admin']))).rejects.toMatchObject({
      code: 'FORBIDDEN',
    })
    const readAdmin = await core.apiKeys.exchange(await make('ra', ['read', 'admin']))
    expect(claims(readAdmin.accessToken)).toMatchObject({
      roles: [],
      permissions: ['read', 'admin'],
    })
    expect(readAdmin.scope).not.toContain('admin')
    const principal = await core.authenticateAccessToken(readAdmin.accessToken)
    expect(principal.permissions).toEqual(['read', 'admin'])
    expect(await core.introspect(readAdmin.accessToken)).toMatchObject({
      roles: [],
      permissions: ['read', 'admin'],
    })
    const writeAdmin = await core.apiKeys.exchange(await make('wa', ['write', 'admin']))
    expect(claims(writeAdmin.accessToken)).toMatchObject({
      roles: ['admin'],
      permissions: ['write', 'admin'],
    })
    expect(writeAdmin.scope.split(' ')).toContain('admin')
  })

  it('introspects API keys', async () => {
    const owner = await core.createUser({ username: 'intro', password: GOOD_PASSWORD })
    const k = await core.apiKeys.create({ userId: owner.id, name: 'i', permissions: ['read'] })
    expect(await core.introspect(k.key)).toMatchObject({
      active: true,
      sub: owner.id,
      username: 'intro',
      token_type: 'api_key',
      jti: null,
      sid: null,
    })
    expect(await core.introspect('rvoip_ak_live_nope')).toEqual({ active: false })
  })
})
