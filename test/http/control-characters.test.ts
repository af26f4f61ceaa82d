// Control characters (C0 with NUL, DEL, C1) in request strings, and prototype keys in paths and
// bodies: each is a 4xx in the SPEC §6.1 envelope on SQLite and on PostgreSQL, never a 500; the
// library path fails with a UsersError, never a driver error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsersError } from '../../src/errors.js'
import { createTempPostgresDatabase, postgresUnavailableReason } from '../helpers/databases.js'
import { bearer, createTestApp, json, type TestApp, USER_PASSWORD } from './helpers.js'

const pgUnavailable = await postgresUnavailableReason()

const backends: { name: string; url: () => Promise<{ url: string; drop(): Promise<void> }> }[] = [
  { name: 'SQLite', url: async () => ({ url: 'sqlite::memory:', drop: async () => {} }) },
  ...(pgUnavailable === undefined
    ? [{ name: 'PostgreSQL', url: () => createTempPostgresDatabase() }]
    : []),
]

/** One of each kind: NUL, another C0, DEL, a C1 (NEL). */
const CONTROLS = ['\u0000', '\u0001', '\u007f', '\u0085'] as const
const hex = (c: string) => `U+${c.codePointAt(0)?.toString(16).padStart(4, '0')}`

async function expectFieldError(res: Response, field: string): Promise<void> {
  const body = (await res.json()) as {
    error: { code: string; details?: { fields?: { field: string }[] } }
  }
  expect(res.status, JSON.stringify(body)).toBe(400)
  expect(body.error.code).toBe('VALIDATION_ERROR')
  expect(body.error.details?.fields?.map((f) => f.field)).toContain(field)
}

for (const backend of backends) {
  describe(`control characters and prototype keys on ${backend.name}`, () => {
    let t: TestApp
    let drop: () => Promise<void>
    beforeAll(async () => {
      const db = await backend.url()
      drop = () => db.drop()
      t = await createTestApp({ database_url: db.url })
    }, 30_000)
    afterAll(async () => {
      await t?.close()
      await drop?.()
    })

    for (const c of CONTROLS) {
      it(`POST /auth/login with ${hex(c)} in the username: 400 VALIDATION_ERROR on username`, async () => {
        const res = await t.app.request(
          '/auth/login',
          json('POST', { username: `al${c}ice`, password: 'x' }),
        )
        await expectFieldError(res, 'username')
      })

      for (const [path, param] of [
        ['/users', 'search'],
        ['/users', 'role'],
        ['/audit-events', 'type'],
      ] as const) {
        it(`GET ${path}?${param}= with ${hex(c)}: 400 VALIDATION_ERROR on ${param}`, async () => {
          const value = encodeURIComponent(`al${c}ice`)
          const res = await t.app.request(`${path}?${param}=${value}`, {
            headers: bearer(t.adminToken),
          })
          await expectFieldError(res, param)
        })
      }
    }

    it('every string field of POST /users refuses NUL, each one named', async () => {
      const res = await t.app.request(
        '/users',
        json(
          'POST',
          {
            username: 'a\u0000b',
            password: USER_PASSWORD,
            email: 'a\u0000@example.com',
            display_name: 'A\u0000',
            roles: ['user\u0000'],
          },
          bearer(t.adminToken),
        ),
      )
      const body = (await res.json()) as {
        error: { code: string; details: { fields: { field: string }[] } }
      }
      expect(res.status).toBe(400)
      expect(body.error.code).toBe('VALIDATION_ERROR')
      expect(body.error.details.fields.map((f) => f.field).sort()).toEqual([
        'display_name',
        'email',
        'roles.0',
        'username',
      ])
    })

    it('PUT /users/:id, POST /users/:id/roles and POST /users/:id/api-keys refuse NUL', async () => {
      const id = t.admin.id
      await expectFieldError(
        await t.app.request(
          `/users/${id}`,
          json('PUT', { email: 'x\u0000@example.com' }, bearer(t.adminToken)),
        ),
        'email',
      )
      await expectFieldError(
        await t.app.request(
          `/users/${id}/roles`,
          json('POST', { roles: ['admin', '\u0000'] }, bearer(t.adminToken)),
        ),
        'roles.1',
      )
      await expectFieldError(
        await t.app.request(
          `/users/${id}/api-keys`,
          json('POST', { name: 'k\u0000', permissions: ['read'] }, bearer(t.adminToken)),
        ),
        'name',
      )
    })

    it('POST /auth/refresh and /auth/introspect (JSON and form) refuse NUL in the token', async () => {
      await expectFieldError(
        await t.app.request(
          '/auth/refresh',
          json('POST', { refresh_token: `${crypto.randomUUID()}\u0000.AAAA` }),
        ),
        'refresh_token',
      )
      await expectFieldError(
        await t.app.request(
          '/auth/introspect',
          json('POST', { token: 'a\u0000b' }, bearer(t.adminToken)),
        ),
        'token',
      )
      await expectFieldError(
        await t.app.request('/auth/introspect', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer(t.adminToken) },
          body: 'token=a%00b',
        }),
        'token',
      )
    })

    it('a password may hold control characters: it is only ever hashed (no 400, no 500)', async () => {
      const password = `${USER_PASSWORD}\u0000\u0001\u0085`
      const created = await t.app.request(
        '/users',
        json('POST', { username: 'ctrl-pass', password }, bearer(t.adminToken)),
      )
      expect(created.status).toBe(201)
      expect(
        (await t.app.request('/auth/login', json('POST', { username: 'ctrl-pass', password })))
          .status,
      ).toBe(200)
      const wrong = await t.app.request(
        '/auth/login',
        json('POST', { username: 'ctrl-pass', password: '\u0000' }),
      )
      expect(wrong.status).toBe(401)
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe(
        'INVALID_CREDENTIALS',
      )
    })

    it('the library path: NUL in a username, search, role or audit type is a UsersError', async () => {
      const attempts: (() => Promise<unknown>)[] = [
        () => t.core.authenticatePassword('al\u0000ice', 'x'),
        () => t.core.users.getByUsername('al\u0000ice'),
        () => t.core.users.list({ search: 'al\u0000ice' }),
        () => t.core.users.list({ role: 'a\u0000' }),
        () => t.core.audit.list({ type: 'a\u0000' }),
      ]
      for (const attempt of attempts) {
        const outcome = await attempt().then(
          () => undefined,
          (err: unknown) => err,
        )
        if (outcome === undefined) continue
        expect(outcome, String(outcome)).toBeInstanceOf(UsersError)
        expect(['INVALID_CREDENTIALS', 'VALIDATION_ERROR']).toContain((outcome as UsersError).code)
      }
    })

    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      it(`GET /docs/assets/${name}: 404 NOT_FOUND`, async () => {
        const res = await t.app.request(`/docs/assets/${name}`)
        expect(res.status).toBe(404)
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
      })
    }

    for (const name of ['constructor', '__proto__', 'toString']) {
      it(`"${name}" as an id in a path: 404 NOT_FOUND`, async () => {
        for (const path of [
          `/users/${name}`,
          `/api-keys/${name}`,
          `/users/${t.admin.id}/sessions/${name}`,
        ]) {
          const res = await t.app.request(path, {
            method: 'DELETE',
            headers: bearer(t.adminToken),
          })
          expect(res.status, path).toBe(404)
        }
      })
    }

    it('"__proto__" and "constructor" as body fields and query names: 400 unknown field', async () => {
      const res = await t.app.request('/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username":"admin","password":"x","__proto__":{"admin":true},"constructor":{"prototype":{"polluted":1}}}',
      })
      await expectFieldError(res, '__proto__')
      const q = await t.app.request('/users?__proto__=1&constructor=x&toString=y', {
        headers: bearer(t.adminToken),
      })
      await expectFieldError(q, 'constructor')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })
  })
}
