import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { User } from '../../src/types.js'
import { bearer, createTestApp, json, type TestApp, USER_PASSWORD } from './helpers.js'

let t: TestApp
let alice: { user: User; token: string }
let bob: { user: User; token: string }
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000'

beforeAll(async () => {
  t = await createTestApp()
  alice = await t.createUser('alice')
  bob = await t.createUser('bob')
})
afterAll(() => t.close())

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

describe('POST /users', () => {
  test('admin creates a user: 201, Location, snake_case user without hash', async () => {
    const res = await t.app.request(
      '/users',
      json(
        'POST',
        {
          username: 'carol',
          password: USER_PASSWORD,
          email: 'carol@example.com',
          display_name: 'Carol',
        },
        bearer(t.adminToken),
      ),
    )
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({
      username: 'carol',
      email: 'carol@example.com',
      display_name: 'Carol',
      roles: ['user'],
      active: true,
      last_login: null,
    })
    expect(res.headers.get('location')).toMatch(new RegExp(`/users/${body.id}$`))
    expect(Object.keys(body)).not.toContain('password_hash')
  })

  test('non-admin → 403; anonymous → 401; taken name → 409; weak password → 400 WEAK_PASSWORD', async () => {
    const body = { username: 'dave', password: USER_PASSWORD }
    expect((await t.app.request('/users', json('POST', body, bearer(alice.token)))).status).toBe(
      403,
    )
    expect((await t.app.request('/users', json('POST', body))).status).toBe(401)
    const dup = await t.app.request(
      '/users',
      json('POST', { username: 'ALICE', password: USER_PASSWORD }, bearer(t.adminToken)),
    )
    expect(dup.status).toBe(409)
    const weak = await t.app.request(
      '/users',
      json('POST', { username: 'erin', password: 'short' }, bearer(t.adminToken)),
    )
    expect(weak.status).toBe(400)
    const weakBody = (await weak.json()) as {
      error: { code: string; details: { rules: string[] } }
    }
    expect(weakBody.error.code).toBe('WEAK_PASSWORD')
    expect(weakBody.error.details.rules.length).toBeGreaterThan(0)
  })
})

describe('GET /users paging', () => {
  test('limit, offset, X-Total-Count and Link rel=next built from public_url', async () => {
    const res = await t.app.request('/users?limit=2&search=', { headers: bearer(t.adminToken) })
    expect(res.status).toBe(200)
    const total = Number(res.headers.get('x-total-count'))
    expect(total).toBeGreaterThanOrEqual(4)
    expect(((await res.json()) as unknown[]).length).toBe(2)
    const link = res.headers.get('link') ?? ''
    expect(link).toMatch(/^<http:\/\/127\.0\.0\.1:8081\/users\?.*offset=2.*>; rel="next"$/)
    expect(link).toContain('limit=2')

    const last = await t.app.request(`/users?limit=2&offset=${total - 1}`, {
      headers: bearer(t.adminToken),
    })
    expect(((await last.json()) as unknown[]).length).toBe(1)
    expect(last.headers.get('link')).toBe(null)
  })

  test('filters and bad parameters', async () => {
    const admins = await t.app.request('/users?role=admin', { headers: bearer(t.adminToken) })
    const list = (await admins.json()) as { username: string }[]
    expect(list.map((u) => u.username)).toEqual(['admin'])
    for (const q of [
      'limit=1001',
      'limit=0',
      'limit=abc',
      'offset=-1',
      'active=maybe',
      'bogus=1',
    ]) {
      const res = await t.app.request(`/users?${q}`, { headers: bearer(t.adminToken) })
      expect(res.status, q).toBe(400)
      expect(await code(res)).toBe('VALIDATION_ERROR')
    }
    const max = await t.app.request('/users?limit=1000', { headers: bearer(t.adminToken) })
    expect(max.status).toBe(200)
  })

  test('non-admin → 403', async () => {
    expect((await t.app.request('/users', { headers: bearer(alice.token) })).status).toBe(403)
  })
})

describe('GET /users/me and /users/:id', () => {
  test('me for a token and an API key', async () => {
    const me = await t.app.request('/users/me', { headers: bearer(alice.token) })
    expect(((await me.json()) as { id: string }).id).toBe(alice.user.id)
    const key = await t.createKey(alice.user.id, ['read'])
    const viaKey = await t.app.request('/users/me', { headers: { 'x-api-key': key } })
    expect(viaKey.status).toBe(200)
    expect(viaKey.headers.get('cache-control')).toBe('no-store')
  })

  test('self 200, admin 200, other user 403 whether or not the id exists, admin unknown 404', async () => {
    const path = `/users/${alice.user.id}`
    expect((await t.app.request(path, { headers: bearer(alice.token) })).status).toBe(200)
    expect((await t.app.request(path, { headers: bearer(t.adminToken) })).status).toBe(200)
    const other = await t.app.request(path, { headers: bearer(bob.token) })
    expect(other.status).toBe(403)
    expect(await code(other)).toBe('FORBIDDEN')
    const unknownForBob = await t.app.request(`/users/${UNKNOWN_ID}`, {
      headers: bearer(bob.token),
    })
    expect(unknownForBob.status).toBe(403)
    const unknown = await t.app.request(`/users/${UNKNOWN_ID}`, { headers: bearer(t.adminToken) })
    expect(unknown.status).toBe(404)
    const notUuid = await t.app.request('/users/not-a-uuid', { headers: bearer(t.adminToken) })
    expect(notUuid.status).toBe(404)
  })
})

describe('PUT /users/:id', () => {
  test('self may change email and display_name; null clears', async () => {
    const res = await t.app.request(
      `/users/${alice.user.id}`,
      json('PUT', { email: 'alice@example.com', display_name: 'Alice' }, bearer(alice.token)),
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ email: 'alice@example.com', display_name: 'Alice' })
    const cleared = await t.app.request(
      `/users/${alice.user.id}`,
      json('PUT', { display_name: null }, bearer(alice.token)),
    )
    expect(await cleared.json()).toMatchObject({ display_name: null, email: 'alice@example.com' })
  })

  test('self sending roles or active → 403; other user → 403', async () => {
    for (const body of [{ roles: ['admin'] }, { active: true }, { email: null, roles: [] }]) {
      const res = await t.app.request(
        `/users/${alice.user.id}`,
        json('PUT', body, bearer(alice.token)),
      )
      expect(res.status).toBe(403)
    }
    const other = await t.app.request(
      `/users/${alice.user.id}`,
      json('PUT', { display_name: 'x' }, bearer(bob.token)),
    )
    expect(other.status).toBe(403)
  })

  test('admin changes everything; deactivation locks the user out (inactive user → 401)', async () => {
    const victim = await t.createUser('victim')
    const res = await t.app.request(
      `/users/${victim.user.id}`,
      json('PUT', { active: false, roles: ['user', 'support'] }, bearer(t.adminToken)),
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ active: false, roles: ['user', 'support'] })
    expect((await t.app.request('/users/me', { headers: bearer(victim.token) })).status).toBe(401)
    const login = await t.app.request(
      '/auth/login',
      json('POST', { username: 'victim', password: USER_PASSWORD }),
    )
    expect(login.status).toBe(401)
  })

  test('the last active admin cannot demote themself → 409', async () => {
    const res = await t.app.request(
      `/users/${t.admin.id}`,
      json('PUT', { roles: ['user'] }, bearer(t.adminToken)),
    )
    expect(res.status).toBe(409)
    expect(await code(res)).toBe('CONFLICT')
  })
})

describe('POST /users/:id/password', () => {
  test('self needs old_password: missing → 400, wrong → 401 INVALID_CREDENTIALS, right → 204', async () => {
    const u = await t.createUser('pwself')
    const path = `/users/${u.user.id}/password`
    const missing = await t.app.request(
      path,
      json('POST', { new_password: 'New-Secret-88' }, bearer(u.token)),
    )
    expect(missing.status).toBe(400)
    const wrong = await t.app.request(
      path,
      json(
        'POST',
        { old_password: 'Wrong-Secret-1', new_password: 'New-Secret-88' },
        bearer(u.token),
      ),
    )
    expect(wrong.status).toBe(401)
    expect(await code(wrong)).toBe('INVALID_CREDENTIALS')
    const ok = await t.app.request(
      path,
      json('POST', { old_password: USER_PASSWORD, new_password: 'New-Secret-88' }, bearer(u.token)),
    )
    expect(ok.status).toBe(204)
    // Every session of the user is revoked.
    expect((await t.app.request('/users/me', { headers: bearer(u.token) })).status).toBe(401)
    await t.login('pwself', 'New-Secret-88')
  })

  test('admin resets without old password; other user → 403', async () => {
    const u = await t.createUser('pwreset')
    const path = `/users/${u.user.id}/password`
    const other = await t.app.request(
      path,
      json(
        'POST',
        { old_password: USER_PASSWORD, new_password: 'New-Secret-88' },
        bearer(bob.token),
      ),
    )
    expect(other.status).toBe(403)
    const reset = await t.app.request(
      path,
      json('POST', { new_password: 'Reset-Secret-77' }, bearer(t.adminToken)),
    )
    expect(reset.status).toBe(204)
    await t.login('pwreset', 'Reset-Secret-77')
  })
})

describe('roles and delete', () => {
  test('POST /users/:id/roles admin only', async () => {
    const u = await t.createUser('roley')
    const path = `/users/${u.user.id}/roles`
    expect(
      (await t.app.request(path, json('POST', { roles: ['ops'] }, bearer(u.token)))).status,
    ).toBe(403)
    const res = await t.app.request(
      path,
      json('POST', { roles: ['ops', 'user'] }, bearer(t.adminToken)),
    )
    expect(res.status).toBe(200)
    expect(((await res.json()) as { roles: string[] }).roles.sort()).toEqual(['ops', 'user'])
  })

  test('DELETE /users/:id: self → 403, admin → 204 then 404; last admin → 409', async () => {
    const u = await t.createUser('doomed')
    const path = `/users/${u.user.id}`
    expect((await t.app.request(path, { method: 'DELETE', headers: bearer(u.token) })).status).toBe(
      403,
    )
    expect(
      (await t.app.request(path, { method: 'DELETE', headers: bearer(t.adminToken) })).status,
    ).toBe(204)
    expect((await t.app.request(path, { headers: bearer(t.adminToken) })).status).toBe(404)
    const self = await t.app.request(`/users/${t.admin.id}`, {
      method: 'DELETE',
      headers: bearer(t.adminToken),
    })
    expect(self.status).toBe(409)
  })
})
