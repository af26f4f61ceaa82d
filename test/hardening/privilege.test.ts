// Privilege escalation attempts through the REST API (SPEC §5, §6.2): a user reaching for admin,
// keys reaching past their permissions, and credentials of a deactivated user.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { ApiKeyPermission } from '../../src/types.js'
import { documentOperations, operationLabel } from '../helpers/fuzz/operations.js'
import { assertErrorEnvelope } from '../helpers/fuzz/run-fuzz.js'
import { bearer, createTestApp, json, type TestApp, USER_PASSWORD } from '../http/helpers.js'

let t: TestApp
let alice: { id: string; token: string }
let bob: { id: string; token: string }

beforeEach(async () => {
  t = await createTestApp({ jwt: { algorithm: 'ES256' } })
  const a = await t.createUser('alice')
  const b = await t.createUser('bob')
  alice = { id: a.user.id, token: a.token }
  bob = { id: b.user.id, token: b.token }
})
afterEach(() => t.close())

async function refused(res: Response, status: number, code: string, label = ''): Promise<void> {
  const text = await res.text()
  expect(res.status, `${label} ${text}`).toBe(status)
  const body = JSON.parse(text) as { error: { code: string } }
  assertErrorEnvelope(body, res.headers.get('x-request-id'), label)
  expect(body.error.code, label).toBe(code)
}

const key = (value: string) => ({ 'x-api-key': value })

async function exchange(apiKey: string): Promise<string> {
  const res = await t.app.request('/auth/api-key/token', { method: 'POST', headers: key(apiKey) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

describe('a user reaching for admin', () => {
  test('cannot raise their own roles, by PUT or by POST /roles, with a token or a * key', async () => {
    const star = await t.createKey(alice.id, ['*'])
    for (const headers of [bearer(alice.token), key(star)]) {
      await refused(
        await t.app.request(`/users/${alice.id}`, json('PUT', { roles: ['admin'] }, headers)),
        403,
        'FORBIDDEN',
        'PUT roles',
      )
      await refused(
        await t.app.request(
          `/users/${alice.id}/roles`,
          json('POST', { roles: ['admin'] }, headers),
        ),
        403,
        'FORBIDDEN',
        'POST roles',
      )
      // Smuggled next to a field they may change.
      await refused(
        await t.app.request(
          `/users/${alice.id}`,
          json('PUT', { display_name: 'Alice', roles: ['user', 'admin'] }, headers),
        ),
        403,
        'FORBIDDEN',
        'PUT display_name+roles',
      )
    }
    expect((await t.core.users.get(alice.id))?.roles).toEqual(['user'])
    // And they may change what is theirs to change (the refusals are not blanket ones).
    const ok = await t.app.request(
      `/users/${alice.id}`,
      json('PUT', { display_name: 'Alice' }, bearer(alice.token)),
    )
    expect(ok.status).toBe(200)
  })

  test('cannot activate themselves or touch another user', async () => {
    await refused(
      await t.app.request(`/users/${alice.id}`, json('PUT', { active: true }, bearer(alice.token))),
      403,
      'FORBIDDEN',
    )
    await refused(
      await t.app.request(`/users/${bob.id}`, json('PUT', { active: false }, bearer(alice.token))),
      403,
      'FORBIDDEN',
    )
    await refused(
      await t.app.request(
        `/users/${bob.id}/password`,
        json('POST', { new_password: 'Granite-Orchid-55' }, bearer(alice.token)),
      ),
      403,
      'FORBIDDEN',
    )
    await refused(
      await t.app.request(`/users/${bob.id}`, { method: 'DELETE', headers: bearer(alice.token) }),
      403,
      'FORBIDDEN',
    )
    // A self "reset" without the old password is not an admin reset.
    await refused(
      await t.app.request(
        `/users/${alice.id}/password`,
        json('POST', { new_password: 'Granite-Orchid-55' }, bearer(alice.token)),
      ),
      400,
      'VALIDATION_ERROR',
    )
    await t.login('bob', USER_PASSWORD)
    await t.login('alice', USER_PASSWORD)
    for (const path of ['/users', '/audit-events', '/metrics']) {
      await refused(
        await t.app.request(path, { headers: bearer(alice.token) }),
        403,
        'FORBIDDEN',
        path,
      )
    }
    await refused(
      await t.app.request('/admin/keys/rotate', { method: 'POST', headers: bearer(alice.token) }),
      403,
      'FORBIDDEN',
    )
  })

  test("cannot read or revoke another user's sessions and keys", async () => {
    const bobSession = (await t.core.sessions.list(bob.id))[0]?.id as string
    const bobKey = await t.createKey(bob.id, ['read'])
    const bobKeyId = (await t.core.apiKeys.list(bob.id))[0]?.id as string
    for (const path of [
      `/users/${bob.id}/sessions`,
      `/users/${bob.id}/api-keys`,
      `/users/${bob.id}`,
    ]) {
      const res = await t.app.request(path, { headers: bearer(alice.token) })
      expect([403, 404], path).toContain(res.status)
      await refused(res, res.status, res.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND', path)
    }
    await refused(
      await t.app.request(`/users/${bob.id}/sessions/${bobSession}`, {
        method: 'DELETE',
        headers: bearer(alice.token),
      }),
      403,
      'FORBIDDEN',
    )
    // Someone else's key answers 404, as if it did not exist.
    await refused(
      await t.app.request(`/api-keys/${bobKeyId}`, {
        method: 'DELETE',
        headers: bearer(alice.token),
      }),
      404,
      'NOT_FOUND',
    )
    // Bob's session and key still work.
    expect((await t.app.request('/users/me', { headers: bearer(bob.token) })).status).toBe(200)
    expect((await t.app.request('/users/me', { headers: key(bobKey) })).status).toBe(200)
  })
})

describe('API keys', () => {
  test('a user cannot create a key for someone else', async () => {
    const star = await t.createKey(alice.id, ['*'])
    for (const headers of [bearer(alice.token), key(star)]) {
      await refused(
        await t.app.request(
          `/users/${bob.id}/api-keys`,
          json('POST', { name: 'stolen', permissions: ['read'] }, headers),
        ),
        403,
        'FORBIDDEN',
      )
    }
    expect(await t.core.apiKeys.list(bob.id)).toEqual([])
  })

  test('a key cannot grant more than its creator holds', async () => {
    const create = (headers: Record<string, string>, permissions: ApiKeyPermission[]) =>
      t.app.request(
        `/users/${alice.id}/api-keys`,
        json('POST', { name: `k-${permissions.join('-')}-${Math.random()}`, permissions }, headers),
      )
    // A non-admin: neither admin nor * (which includes admin).
    for (const permissions of [['admin'], ['*'], ['read', 'admin']] as ApiKeyPermission[][]) {
      await refused(
        await create(bearer(alice.token), permissions),
        403,
        'FORBIDDEN',
        `${permissions}`,
      )
    }
    // A read+write key cannot mint delete; a read key cannot mint at all (POST needs write).
    const readWrite = await t.createKey(alice.id, ['read', 'write'])
    await refused(await create(key(readWrite), ['delete']), 403, 'FORBIDDEN', 'rw → delete')
    await refused(await create(key(readWrite), ['read', 'write', 'delete']), 403, 'FORBIDDEN')
    const read = await t.createKey(alice.id, ['read'])
    await refused(await create(key(read), ['write']), 403, 'FORBIDDEN', 'read → write')
    await refused(await create(key(read), ['read']), 403, 'FORBIDDEN', 'read → read')
    // The exchanged token of a read+write key is no stronger than the key.
    await refused(await create(bearer(await exchange(readWrite)), ['delete']), 403, 'FORBIDDEN')
    // Control: what it holds, it can hand on.
    expect((await create(key(readWrite), ['read'])).status).toBe(201)
    const keys = await t.core.apiKeys.list(alice.id)
    expect(keys.flatMap((k) => k.permissions)).not.toContain('admin')
    expect(keys.flatMap((k) => k.permissions)).not.toContain('delete')
  })

  test('a read-only key (and its exchanged token) cannot POST, PUT or DELETE anywhere', async () => {
    const read = await t.createKey(alice.id, ['read'])
    const readJwt = await exchange(read)
    const aliceKeyId = (await t.core.apiKeys.list(alice.id))[0]?.id as string
    const aliceSession = (await t.core.sessions.list(alice.id))[0]?.id as string
    const writes = documentOperations().filter(
      (op) =>
        op.method !== 'get' &&
        op.security.length > 0 &&
        !op.securityOptional &&
        // RFC 7662 introspection is a read sent as POST; the exchange is how a key gets a JWT
        // (with the key's own limits, checked below).
        op.path !== '/auth/introspect' &&
        op.path !== '/auth/api-key/token',
    )
    expect(writes.length).toBeGreaterThanOrEqual(9)
    for (const credential of [key(read), bearer(readJwt)]) {
      for (const op of writes) {
        const path = op.path
          .replace('/api-keys/{id}', `/api-keys/${aliceKeyId}`)
          .replace('{id}', alice.id)
          .replace('{sid}', aliceSession)
        const body = op.path.endsWith('/api-keys')
          ? { name: 'x', permissions: ['read'] }
          : op.path.endsWith('/password')
            ? { old_password: USER_PASSWORD, new_password: 'Granite-Orchid-55' }
            : op.path === `/users/{id}`
              ? { display_name: 'changed' }
              : {}
        const res = await t.app.request(path, json(op.method.toUpperCase(), body, credential))
        await refused(res, 403, 'FORBIDDEN', operationLabel(op))
      }
    }
    // Nothing changed.
    const after = await t.core.users.get(alice.id)
    expect(after?.displayName).toBeNull()
    expect((await t.core.apiKeys.list(alice.id)).length).toBe(1)
    await t.login('alice', USER_PASSWORD)
    expect((await t.app.request('/users/me', { headers: key(read) })).status).toBe(200)
  })

  test("a read-only key's exchanged token cannot log its owner out everywhere", async () => {
    const readJwt = await exchange(await t.createKey(alice.id, ['read']))
    await refused(
      await t.app.request('/auth/logout', json('POST', { all_sessions: true }, bearer(readJwt))),
      403,
      'FORBIDDEN',
    )
    expect((await t.app.request('/users/me', { headers: bearer(alice.token) })).status).toBe(200)
    expect((await t.core.sessions.list(alice.id)).length).toBe(1)
  })

  test('admin permission on a non-admin owner gives no admin powers', async () => {
    const adminPerm = await t.createKey(alice.id, ['admin', 'read', 'write', 'delete'])
    for (const headers of [key(adminPerm), bearer(await exchange(adminPerm))]) {
      for (const path of ['/users', '/audit-events', '/metrics', `/users/${bob.id}`]) {
        const res = await t.app.request(path, { headers })
        expect([403, 404], path).toContain(res.status)
      }
      await refused(
        await t.app.request(`/users/${bob.id}/roles`, json('POST', { roles: ['admin'] }, headers)),
        403,
        'FORBIDDEN',
      )
      await refused(
        await t.app.request(
          `/users/${alice.id}/roles`,
          json('POST', { roles: ['admin'] }, headers),
        ),
        403,
        'FORBIDDEN',
      )
    }
    expect((await t.core.users.get(alice.id))?.roles).toEqual(['user'])
  })

  test('an admin-owned key without the admin permission has no admin powers', async () => {
    const noAdmin = await t.createKey(t.admin.id, ['read', 'write', 'delete'])
    const star = await t.createKey(t.admin.id, ['*'])
    for (const headers of [key(noAdmin), bearer(await exchange(noAdmin))]) {
      for (const path of ['/users', '/audit-events', '/metrics', `/users/${bob.id}/sessions`]) {
        await refused(await t.app.request(path, { headers }), 403, 'FORBIDDEN', path)
      }
      await refused(
        await t.app.request(
          '/users',
          json('POST', { username: 'eve', password: 'Granite-Orchid-55' }, headers),
        ),
        403,
        'FORBIDDEN',
      )
      await refused(
        await t.app.request(`/users/${bob.id}`, { method: 'DELETE', headers }),
        403,
        'FORBIDDEN',
      )
      await refused(
        await t.app.request(`/users/${bob.id}/roles`, json('POST', { roles: ['admin'] }, headers)),
        403,
        'FORBIDDEN',
      )
      await refused(
        await t.app.request(
          `/users/${t.admin.id}/api-keys`,
          json('POST', { name: `esc-${Math.random()}`, permissions: ['admin'] }, headers),
        ),
        403,
        'FORBIDDEN',
      )
    }
    // Control: the same owner's * key is an admin.
    expect((await t.app.request('/users', { headers: key(star) })).status).toBe(200)
    expect((await t.core.users.get(bob.id))?.roles).toEqual(['user'])
  })
})

describe('deactivation', () => {
  test("stops the user's access tokens, refresh tokens, API keys and exchanged tokens at once", async () => {
    const login = await t.login('alice', USER_PASSWORD)
    const access = login.access_token as string
    const refresh = login.refresh_token as string
    const apiKey = await t.createKey(alice.id, ['read', 'write'])
    const exchanged = await exchange(apiKey)
    for (const headers of [bearer(access), key(apiKey), bearer(apiKey), bearer(exchanged)]) {
      expect((await t.app.request('/users/me', { headers })).status).toBe(200)
    }

    const off = await t.app.request(
      `/users/${alice.id}`,
      json('PUT', { active: false }, bearer(t.adminToken)),
    )
    expect(off.status).toBe(200)

    for (const [name, headers] of Object.entries({
      access: bearer(access),
      'key header': key(apiKey),
      'key bearer': bearer(apiKey),
      exchanged: bearer(exchanged),
    })) {
      const res = await t.app.request('/users/me', { headers })
      expect(res.headers.get('www-authenticate') ?? '', name).toMatch(/^Bearer/)
      await refused(res, 401, 'UNAUTHORIZED', name)
    }
    await refused(
      await t.app.request('/auth/refresh', json('POST', { refresh_token: refresh })),
      401,
      'INVALID_TOKEN',
    )
    await refused(
      await t.app.request('/auth/api-key/token', { method: 'POST', headers: key(apiKey) }),
      401,
      'UNAUTHORIZED',
    )
    await refused(
      await t.app.request(
        '/auth/login',
        json('POST', { username: 'alice', password: USER_PASSWORD }),
      ),
      401,
      'INVALID_CREDENTIALS',
    )
    for (const token of [access, apiKey, exchanged]) {
      const res = await t.app.request(
        '/auth/introspect',
        json('POST', { token }, bearer(t.adminToken)),
      )
      expect(await res.json()).toEqual({ active: false })
    }

    // Reactivation does not resurrect the revoked session.
    await t.app.request(`/users/${alice.id}`, json('PUT', { active: true }, bearer(t.adminToken)))
    await refused(
      await t.app.request('/users/me', { headers: bearer(access) }),
      401,
      'UNAUTHORIZED',
      'old access token after reactivation',
    )
    await refused(
      await t.app.request('/auth/refresh', json('POST', { refresh_token: refresh })),
      401,
      'INVALID_TOKEN',
      'old refresh token after reactivation',
    )
  })
})
