import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { User } from '../../src/types.js'
import { bearer, createTestApp, json, type TestApp, USER_PASSWORD } from './helpers.js'

let t: TestApp
let alice: { user: User; token: string }
let bob: { user: User; token: string }

beforeAll(async () => {
  t = await createTestApp()
  alice = await t.createUser('alice')
  bob = await t.createUser('bob')
})
afterAll(() => t.close())

const key = (k: string) => ({ 'x-api-key': k })

describe('API keys over HTTP', () => {
  test('create: 201 {key, key_info}; key shown only at creation', async () => {
    const res = await t.app.request(
      `/users/${alice.user.id}/api-keys`,
      json(
        'POST',
        { name: 'pbx', permissions: ['read', 'write'], expires_at: '2999-01-01T00:00:00Z' },
        bearer(alice.token),
      ),
    )
    expect(res.status).toBe(201)
    const body = (await res.json()) as { key: string; key_info: Record<string, unknown> }
    expect(body.key).toMatch(/^rvoip_ak_live_[A-Za-z0-9]{32,}$/)
    expect(Object.keys(body.key_info).sort()).toEqual(
      [
        'created_at',
        'expires_at',
        'id',
        'key_prefix',
        'last_used_at',
        'name',
        'permissions',
        'user_id',
      ].sort(),
    )
    expect(body.key_info.expires_at).toBe('2999-01-01T00:00:00.000Z')
    const list = await t.app.request(`/users/${alice.user.id}/api-keys`, {
      headers: bearer(alice.token),
    })
    expect(list.status).toBe(200)
    const keys = (await list.json()) as Record<string, unknown>[]
    expect(keys.map((k) => k.name)).toContain('pbx')
    expect(JSON.stringify(keys)).not.toContain(body.key)
  })

  test('a key can grant nothing its creator lacks; a non-admin cannot mint admin or *', async () => {
    for (const permissions of [['admin'], ['*']]) {
      const res = await t.app.request(
        `/users/${alice.user.id}/api-keys`,
        json('POST', { name: `n-${permissions[0]}`, permissions }, bearer(alice.token)),
      )
      expect(res.status).toBe(403)
    }
    const readOnly = await t.createKey(alice.user.id, ['read', 'write'])
    const escalate = await t.app.request(
      `/users/${alice.user.id}/api-keys`,
      json('POST', { name: 'more', permissions: ['delete'] }, key(readOnly)),
    )
    expect(escalate.status).toBe(403)
  })

  test('validation: bad permission, past expiry, duplicate name', async () => {
    const bad = await t.app.request(
      `/users/${alice.user.id}/api-keys`,
      json(
        'POST',
        { name: 'x', permissions: ['root'], expires_at: '2000-01-01T00:00:00Z' },
        bearer(alice.token),
      ),
    )
    expect(bad.status).toBe(400)
    const fields = (
      (await bad.json()) as { error: { details: { fields: { field: string }[] } } }
    ).error.details.fields.map((f) => f.field)
    expect(fields).toEqual(expect.arrayContaining(['permissions.0', 'expires_at']))
    const first = await t.app.request(
      `/users/${bob.user.id}/api-keys`,
      json('POST', { name: 'same', permissions: ['read'] }, bearer(bob.token)),
    )
    expect(first.status).toBe(201)
    const dup = await t.app.request(
      `/users/${bob.user.id}/api-keys`,
      json('POST', { name: 'same', permissions: ['read'] }, bearer(bob.token)),
    )
    expect(dup.status).toBe(409)
  })

  test("other users' keys: 403 on the user's collection, 404 on DELETE /api-keys/:id", async () => {
    const aliceKey = await t.app.request(
      `/users/${alice.user.id}/api-keys`,
      json('POST', { name: 'victim', permissions: ['read'] }, bearer(alice.token)),
    )
    const { key_info } = (await aliceKey.json()) as { key_info: { id: string } }
    expect(
      (await t.app.request(`/users/${alice.user.id}/api-keys`, { headers: bearer(bob.token) }))
        .status,
    ).toBe(403)
    const del = await t.app.request(`/api-keys/${key_info.id}`, {
      method: 'DELETE',
      headers: bearer(bob.token),
    })
    expect(del.status).toBe(404)
    const own = await t.app.request(`/api-keys/${key_info.id}`, {
      method: 'DELETE',
      headers: bearer(alice.token),
    })
    expect(own.status).toBe(204)
    const again = await t.app.request(`/api-keys/${key_info.id}`, {
      method: 'DELETE',
      headers: bearer(t.adminToken),
    })
    expect(again.status).toBe(404)
  })

  test('a revoked key is refused with 401', async () => {
    const k = await t.createKey(bob.user.id, ['read'])
    const info = await t.core.apiKeys.validate(k)
    await t.app.request(`/api-keys/${info?.id}`, {
      method: 'DELETE',
      headers: bearer(t.adminToken),
    })
    expect((await t.app.request('/users/me', { headers: key(k) })).status).toBe(401)
  })
})

describe('permission matrix of API keys', () => {
  test('read allows GET only', async () => {
    const k = await t.createKey(alice.user.id, ['read'])
    expect((await t.app.request(`/users/${alice.user.id}`, { headers: key(k) })).status).toBe(200)
    const put = await t.app.request(
      `/users/${alice.user.id}`,
      json('PUT', { display_name: 'A' }, key(k)),
    )
    expect(put.status).toBe(403)
  })

  test('write allows POST/PUT, not GET or DELETE', async () => {
    const k = await t.createKey(alice.user.id, ['write'])
    const put = await t.app.request(
      `/users/${alice.user.id}`,
      json('PUT', { display_name: 'A' }, key(k)),
    )
    expect(put.status).toBe(200)
    expect((await t.app.request('/users/me', { headers: key(k) })).status).toBe(403)
    const sessions = await t.core.sessions.list(alice.user.id)
    const del = await t.app.request(`/users/${alice.user.id}/sessions/${sessions[0]?.id}`, {
      method: 'DELETE',
      headers: key(k),
    })
    expect(del.status).toBe(403)
  })

  test('delete allows DELETE', async () => {
    const session = await t.login('alice', USER_PASSWORD)
    void session
    const k = await t.createKey(alice.user.id, ['delete'])
    const sessions = await t.core.sessions.list(alice.user.id)
    const del = await t.app.request(`/users/${alice.user.id}/sessions/${sessions.at(-1)?.id}`, {
      method: 'DELETE',
      headers: key(k),
    })
    expect(del.status).toBe(204)
  })

  test('admin powers need an admin owner AND the admin permission (plus the method permission)', async () => {
    const adminRead = await t.createKey(t.admin.id, ['read'])
    expect((await t.app.request('/users', { headers: key(adminRead) })).status).toBe(403)
    const adminOnly = await t.createKey(t.admin.id, ['admin'])
    expect((await t.app.request('/users', { headers: key(adminOnly) })).status).toBe(403)
    const adminReadAdmin = await t.createKey(t.admin.id, ['read', 'admin'])
    expect((await t.app.request('/users', { headers: key(adminReadAdmin) })).status).toBe(200)
    const star = await t.createKey(t.admin.id, ['*'])
    expect((await t.app.request('/users', { headers: bearer(star) })).status).toBe(200)
    const userStar = await t.createKey(alice.user.id, ['read', 'admin'])
    expect((await t.app.request('/users', { headers: key(userStar) })).status).toBe(403)
  })

  test('a key of an inactive owner is refused with 401', async () => {
    const u = await t.createUser('sleepy')
    const k = await t.createKey(u.user.id, ['read'])
    await t.core.users.update(u.user.id, { active: false })
    expect((await t.app.request('/users/me', { headers: key(k) })).status).toBe(401)
  })
})

describe('sessions', () => {
  test('list marks the current session; other user 403; revoke unknown 404', async () => {
    const s = await t.login('bob', USER_PASSWORD)
    const res = await t.app.request(`/users/${bob.user.id}/sessions`, {
      headers: bearer(s.access_token as string),
    })
    expect(res.status).toBe(200)
    const list = (await res.json()) as Record<string, unknown>[]
    expect(list.filter((x) => x.current)).toHaveLength(1)
    expect(Object.keys(list[0] ?? {}).sort()).toEqual(
      ['created_at', 'current', 'expires_at', 'id', 'ip', 'last_used_at', 'user_agent'].sort(),
    )
    const aliceNow = (await t.login('alice', USER_PASSWORD)).access_token as string
    expect(
      (await t.app.request(`/users/${bob.user.id}/sessions`, { headers: bearer(aliceNow) })).status,
    ).toBe(403)
    const unknown = await t.app.request(
      `/users/${bob.user.id}/sessions/00000000-0000-4000-8000-000000000000`,
      { method: 'DELETE', headers: bearer(t.adminToken) },
    )
    expect(unknown.status).toBe(404)
  })
})

describe('tokens minted from API keys keep the key attenuation', () => {
  type Permission = 'read' | 'write' | 'delete' | 'admin' | '*'
  const claimsOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<
      string,
      unknown
    >
  const exchange = (k: string) =>
    t.app.request('/auth/api-key/token', { method: 'POST', headers: key(k) })
  let n = 0
  // One request per kind of power: own read, admin read, admin write, self write, delete.
  const probes = (headers: Record<string, string>) => [
    t.app.request('/users/me', { headers }),
    t.app.request('/users', { headers }),
    t.app.request(
      '/users',
      json('POST', { username: `svc-${++n}`, password: USER_PASSWORD }, headers),
    ),
    t.app.request(`/users/${t.admin.id}`, json('PUT', { display_name: 'Root' }, headers)),
    t.app.request('/api-keys/00000000-0000-4000-8000-000000000000', { method: 'DELETE', headers }),
  ]
  const statuses = async (headers: Record<string, string>) =>
    Promise.all(probes(headers).map(async (r) => (await r).status))

  test.each<[string, Permission[], number[]]>([
    ['read', ['read'], [200, 403, 403, 403, 403]],
    ['read+write', ['read', 'write'], [200, 403, 403, 200, 403]],
    ['read+admin', ['read', 'admin'], [200, 200, 403, 403, 403]],
    ['write+admin', ['write', 'admin'], [403, 403, 201, 200, 403]],
    ['*', ['*'], [200, 200, 201, 200, 404]],
  ])(
    'an admin-owned %s key: its token carries its permissions and is refused what the key is',
    async (_, permissions, expected) => {
      const k = await t.createKey(t.admin.id, permissions)
      const res = await exchange(k)
      expect(res.status).toBe(200)
      const body = (await res.json()) as { access_token: string; scope: string }
      const claims = claimsOf(body.access_token)
      const mayWrite = permissions.includes('write') || permissions.includes('*')
      const mayAdmin = mayWrite && (permissions.includes('admin') || permissions.includes('*'))
      expect(claims.permissions).toEqual(permissions)
      expect(claims.roles).toEqual(mayAdmin ? ['admin'] : [])
      expect((claims.scope as string).split(' ').includes('admin')).toBe(mayAdmin)
      expect(body.scope).toBe(claims.scope)
      expect(claims).not.toHaveProperty('sid')
      expect(await statuses(key(k))).toEqual(expected)
      expect(await statuses(bearer(body.access_token))).toEqual(expected)
      for (const token of [k, body.access_token]) {
        const info = await t.app.request(
          '/auth/introspect',
          json('POST', { token }, bearer(t.adminToken)),
        )
        expect(await info.json()).toMatchObject({
          active: true,
          permissions,
          roles: claims.roles,
          scope: claims.scope,
        })
      }
    },
  )

  test('a key that allows no method is not exchanged (403 FORBIDDEN)', async () => {
    const k = await t.createKey(t.admin.id, ['admin'])
    const res = await exchange(k)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN')
  })

  test('admin permission on a non-admin owner: no admin role in the token', async () => {
    const k = await t.createKey(alice.user.id, ['read', 'write', 'admin'])
    const body = (await (await exchange(k)).json()) as { access_token: string }
    const claims = claimsOf(body.access_token)
    expect(claims.roles).toEqual(['user'])
    expect(claims.permissions).toEqual(['read', 'write', 'admin'])
    expect(await statuses(bearer(body.access_token))).toEqual(await statuses(key(k)))
  })

  test('login tokens carry no permissions claim', async () => {
    expect(claimsOf(t.adminToken)).not.toHaveProperty('permissions')
    const info = await t.app.request(
      '/auth/introspect',
      json('POST', { token: t.adminToken }, bearer(t.adminToken)),
    )
    expect(await info.json()).not.toHaveProperty('permissions')
  })
})
