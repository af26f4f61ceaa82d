import { hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { UsersCore } from '../../src/types.js'
import { createTestCore, GOOD_PASSWORD } from '../helpers/create-test-core.js'

describe('accounts (SPEC §3)', () => {
  let core: UsersCore

  beforeEach(async () => {
    ;({ core } = await createTestCore())
  })
  afterEach(() => core.close())

  it('creates a user with defaults and never exposes the hash', async () => {
    const u = await core.createUser({ username: 'alice', password: GOOD_PASSWORD })
    expect(u).toMatchObject({
      username: 'alice',
      email: null,
      displayName: null,
      roles: ['user'],
      active: true,
    })
    expect(Object.keys(u).sort()).toEqual([
      'active',
      'createdAt',
      'displayName',
      'email',
      'id',
      'lastLogin',
      'roles',
      'updatedAt',
      'username',
    ])
    expect(u.id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('keeps usernames and emails unique case-insensitively', async () => {
    await core.createUser({ username: 'Alice', password: GOOD_PASSWORD, email: 'A@Example.com' })
    await expect(
      core.createUser({ username: 'alice', password: GOOD_PASSWORD }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    })
    await expect(
      core.createUser({ username: 'alice2', password: GOOD_PASSWORD, email: 'a@example.COM' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' })
  })

  it('reports every failed password rule at once', async () => {
    const err = await core.createUser({ username: 'weak', password: 'abc' }).catch((e) => e)
    expect(err.code).toBe('WEAK_PASSWORD')
    expect(err.details.rules).toEqual(
      expect.arrayContaining(['min_length', 'uppercase', 'numbers']),
    )
  })

  it('rejects invalid fields with VALIDATION_ERROR naming each of them', async () => {
    const err = await core
      .createUser({
        username: 'a',
        password: GOOD_PASSWORD,
        email: 'nope',
        displayName: '<b>',
        roles: ['Admin'],
      })
      .catch((e) => e)
    expect(err.code).toBe('VALIDATION_ERROR')
    const fields = (err.details as { fields: { field: string }[] }).fields
      .map((d) => d.field)
      .sort()
    expect(fields).toEqual(expect.arrayContaining(['display_name', 'email', 'username']))
  })

  it('updates fields, clears with null, and audits roles and activation separately', async () => {
    const u = await core.createUser({
      username: 'erin',
      password: GOOD_PASSWORD,
      email: 'e@example.com',
    })
    const v = await core.users.update(u.id, { email: null, displayName: 'Erin E.' })
    expect(v).toMatchObject({ email: null, displayName: 'Erin E.' })
    await core.users.setRoles(u.id, ['user', 'support'])
    await core.users.update(u.id, { active: false })
    const types = (await core.audit.list({ userId: u.id })).items.map((e) => e.type)
    expect(types).toEqual(
      expect.arrayContaining([
        'user.created',
        'user.updated',
        'user.roles_changed',
        'user.deactivated',
      ]),
    )
  })

  it('never lets the last active admin be deleted, demoted or deactivated', async () => {
    const admin = await core.createUser({
      username: 'root',
      password: GOOD_PASSWORD,
      roles: ['admin'],
    })
    await expect(core.users.delete(admin.id)).rejects.toMatchObject({ code: 'CONFLICT' })
    await expect(core.users.setRoles(admin.id, ['user'])).rejects.toMatchObject({
      code: 'CONFLICT',
    })
    await expect(core.users.update(admin.id, { active: false })).rejects.toMatchObject({
      code: 'CONFLICT',
    })
    const second = await core.createUser({
      username: 'root2',
      password: GOOD_PASSWORD,
      roles: ['admin'],
    })
    await core.users.delete(admin.id)
    expect(await core.users.get(admin.id)).toBeUndefined()
    expect((await core.users.get(second.id))?.roles).toEqual(['admin'])
  })

  it('lists newest first with search, filters and a total', async () => {
    const { core: c, clock } = await createTestCore()
    try {
      for (const name of ['anna', 'bert', 'anita']) {
        await c.createUser({ username: name, password: GOOD_PASSWORD })
        clock.advance(1000)
      }
      const all = await c.users.list()
      expect(all.items.map((u) => u.username)).toEqual(['anita', 'bert', 'anna'])
      const an = await c.users.list({ search: 'AN', limit: 1 })
      expect(an.total).toBe(2)
      expect(an.items.map((u) => u.username)).toEqual(['anita'])
      await expect(c.users.list({ limit: 1001 })).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
      })
    } finally {
      await c.close()
    }
  })

  it('self-service password change checks the old password', async () => {
    const u = await core.createUser({ username: 'fred', password: GOOD_PASSWORD })
    await expect(
      core.users.changePassword(u.id, 'Wrong-Old-1', 'New-Password-77'),
    ).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    })
    await core.users.changePassword(u.id, GOOD_PASSWORD, 'New-Password-77')
    await expect(core.authenticatePassword('fred', 'New-Password-77')).resolves.toBeDefined()
  })

  it('imports bcrypt and argon2 users, logs both in and upgrades them to Argon2id', async () => {
    const rows = [
      {
        username: 'bcrypt_user',
        password_hash: bcrypt.hashSync('Bcrypt-Pass-1', 4),
        email: 'b@example.com',
      },
      {
        username: 'argon_user',
        password_hash: await argon2Hash('Argon-Pass-1', {
          algorithm: 1,
          memoryCost: 1024,
          timeCost: 1,
        }),
      },
      { username: 'bcrypt_user', password_hash: bcrypt.hashSync('x', 4) },
      { username: 'bad', password_hash: 'md5:abc' },
    ]
    const results = await core.users.importBatch(rows)
    expect(results.map((r) => r.status)).toEqual(['imported', 'imported', 'skipped', 'failed'])
    await expect(core.authenticatePassword('bcrypt_user', 'Bcrypt-Pass-1')).resolves.toBeDefined()
    await expect(core.authenticatePassword('argon_user', 'Argon-Pass-1')).resolves.toBeDefined()
    const exported = []
    for await (const u of core.users.exportAll()) exported.push(u)
    for (const u of exported) expect(u.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
    await expect(core.authenticatePassword('bcrypt_user', 'Bcrypt-Pass-1')).resolves.toBeDefined()
  })

  it('bootstraps the admin once, generating a strong password when none is configured', async () => {
    const first = await core.bootstrapAdmin()
    expect(first).toMatchObject({ created: true, username: 'admin' })
    const password = (first as { generatedPassword: string }).generatedPassword
    expect(password.length).toBeGreaterThanOrEqual(24)
    const login = await core.authenticatePassword('admin', password)
    expect(login.user.roles).toEqual(['admin'])
    expect(login.scope).toBe('openid profile email sip.register admin')
    expect(await core.bootstrapAdmin()).toEqual({ created: false })
  })
})
