// Walks a running users-core through every route of SPEC §6.2 and prints what each one shows.
// Exits 0 only when every step answered the expected status. Started by run_demo.sh:
//
//   node --import tsx examples/rest-api-demo/demo-client.ts URL   (admin password in
//   USERS_CORE_ADMIN_PASSWORD, admin name in USERS_CORE_ADMIN_USERNAME, default "admin")

const base = (process.argv[2] ?? 'http://127.0.0.1:8081').replace(/\/+$/, '')
const adminUsername = process.env.USERS_CORE_ADMIN_USERNAME ?? 'admin'
const adminPassword = process.env.USERS_CORE_ADMIN_PASSWORD
if (!adminPassword) {
  process.stderr.write('demo-client: set USERS_CORE_ADMIN_PASSWORD to the admin password\n')
  process.exit(2)
}

type Json = Record<string, unknown>
interface Answer {
  status: number
  headers: Headers
  text: string
  /** The parsed body when it is JSON. */
  json: Json & Json[]
}

let step = 0
const failures: string[] = []

interface StepOptions {
  token?: string | undefined
  apiKey?: string | undefined
  body?: unknown
  form?: Record<string, string>
  headers?: Record<string, string>
  /** What to print after the status; default: a short excerpt of the body. */
  show?: (a: Answer) => string
}

/** One request, its expected status, and a line about what it showed. */
async function call(
  title: string,
  method: string,
  path: string,
  expected: number,
  options: StepOptions = {},
): Promise<Answer> {
  step++
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.apiKey) headers['x-api-key'] = options.apiKey
  let body: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(options.form).toString()
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) })
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  const answer = { status: res.status, headers: res.headers, text, json: json as Json & Json[] }
  const ok = res.status === expected
  if (!ok) failures.push(`${title}: expected ${expected}, got ${res.status} ${text.slice(0, 200)}`)
  const shown = options.show ? options.show(answer) : excerpt(text)
  const num = String(step).padStart(2, ' ')
  console.log(`${num}. ${ok ? 'ok  ' : 'FAIL'} ${method} ${path} -> ${res.status}  ${title}`)
  if (shown) console.log(`        ${shown}`)
  return answer
}

function excerpt(text: string, max = 110): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}

function short(token: unknown): string {
  return typeof token === 'string' ? `${token.slice(0, 16)}…` : String(token)
}

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v))

console.log(`users-core REST demo against ${base}\n`)

// --- probes and discovery ---------------------------------------------------------------------
await call('liveness', 'GET', '/health', 200, {
  show: (a) => `status=${a.json.status} version=${a.json.version} checks=${str(a.json.checks)}`,
})
await call('readiness', 'GET', '/ready', 200)
const jwks1 = await call('JWKS', 'GET', '/auth/jwks.json', 200, {
  show: (a) => {
    const keys = a.json.keys as unknown as Json[]
    return `${keys.length} key(s): ${keys.map((k) => `${k.alg}/${short(k.kid)}`).join(', ')}; Cache-Control: ${a.headers.get('cache-control')}; ETag ${a.headers.get('etag')}`
  },
})
await call('JWKS, well-known path (same ETag)', 'GET', '/.well-known/jwks.json', 200, {
  show: (a) =>
    `ETag ${a.headers.get('etag')} ${a.headers.get('etag') === jwks1.headers.get('etag') ? '(same)' : '(DIFFERENT)'}`,
})
await call('JWKS revalidation', 'GET', '/.well-known/jwks.json', 304, {
  headers: { 'if-none-match': jwks1.headers.get('etag') ?? '' },
  show: () => 'not modified',
})
await call('OpenID discovery', 'GET', '/.well-known/openid-configuration', 200, {
  show: (a) =>
    `issuer=${a.json.issuer} jwks_uri=${a.json.jwks_uri} algs=${str(a.json.id_token_signing_alg_values_supported)}`,
})
await call('OpenAPI description', 'GET', '/openapi.json', 200, {
  show: (a) => {
    const info = a.json.info as Json | undefined
    return `openapi ${a.json.openapi}, "${info?.title}" ${info?.version}, ${Object.keys((a.json.paths as Json) ?? {}).length} paths`
  },
})
await call('API reference page', 'GET', '/docs', 200, {
  show: (a) =>
    `${a.headers.get('content-type')}, ${a.text.length} bytes, <title>${/<title>([^<]*)</i.exec(a.text)?.[1] ?? '?'}</title>`,
})

// --- admin logs in ---------------------------------------------------------------------------
const adminLogin = await call('admin logs in', 'POST', '/auth/login', 200, {
  body: { username: adminUsername, password: adminPassword },
  show: (a) =>
    `${a.json.token_type} ${short(a.json.access_token)} expires_in=${a.json.expires_in} scope="${a.json.scope}"`,
})
const admin = String(adminLogin.json.access_token)
await call('who am I (admin)', 'GET', '/users/me', 200, {
  token: admin,
  show: (a) => `${a.json.username} roles=${str(a.json.roles)}`,
})

// --- users -----------------------------------------------------------------------------------
const userShow = (a: Answer) =>
  `id=${short(a.json.id)} username=${a.json.username} email=${a.json.email} display_name=${a.json.display_name} roles=${str(a.json.roles)} active=${a.json.active}`
const alice = await call('create user alice', 'POST', '/users', 201, {
  token: admin,
  body: { username: 'alice', password: 'Sunflower-Meadow-7', email: 'alice@example.com' },
  show: (a) => `${userShow(a)}; Location: ${a.headers.get('location')}`,
})
const aliceId = String(alice.json.id)
const bob = await call('create user bob', 'POST', '/users', 201, {
  token: admin,
  body: { username: 'bob', password: 'Harbor-Lights-2026', display_name: 'Bob' },
  show: userShow,
})
const bobId = String(bob.json.id)
await call('create a duplicate (Alice, any case)', 'POST', '/users', 409, {
  token: admin,
  body: { username: 'Alice', password: 'Sunflower-Meadow-7' },
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
await call('weak password refused', 'POST', '/users', 400, {
  token: admin,
  body: { username: 'carol', password: 'short' },
  show: (a) =>
    `error.code=${(a.json.error as Json).code} rules=${str(((a.json.error as Json).details as Json)?.rules)}`,
})
await call('list users, page of 2', 'GET', '/users?limit=2', 200, {
  token: admin,
  show: (a) =>
    `${a.json.map((u) => u.username).join(', ')}; X-Total-Count: ${a.headers.get('x-total-count')}; Link: ${a.headers.get('link')}`,
})
await call('search users', 'GET', '/users?search=ali&active=true', 200, {
  token: admin,
  show: (a) =>
    `${a.json.map((u) => u.username).join(', ')}; X-Total-Count: ${a.headers.get('x-total-count')}`,
})
await call('get alice', 'GET', `/users/${aliceId}`, 200, { token: admin, show: userShow })
await call('update alice', 'PUT', `/users/${aliceId}`, 200, {
  token: admin,
  body: { display_name: 'Alice Liddell', email: 'alice@rvoip.example' },
  show: userShow,
})
await call('set alice roles', 'POST', `/users/${aliceId}/roles`, 200, {
  token: admin,
  body: { roles: ['user', 'operator'] },
  show: userShow,
})

// --- alice's own session ---------------------------------------------------------------------
const aliceLogin = await call('alice logs in', 'POST', '/auth/login', 200, {
  body: { username: 'alice', password: 'Sunflower-Meadow-7' },
  headers: { 'user-agent': 'rvoip-demo/1.0 (laptop)' },
  show: (a) =>
    `refresh_token ${short(a.json.refresh_token)} refresh_expires_in=${a.json.refresh_expires_in}`,
})
await call('wrong password', 'POST', '/auth/login', 401, {
  body: { username: 'alice', password: 'Not-Her-Password-1' },
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
const refreshed = await call('refresh (rotates the refresh token)', 'POST', '/auth/refresh', 200, {
  body: { refresh_token: aliceLogin.json.refresh_token },
  show: (a) =>
    `new refresh_token …${String(a.json.refresh_token).slice(-12)} (${a.json.refresh_token === aliceLogin.json.refresh_token ? 'same' : 'rotated'})`,
})
let aliceToken = String(refreshed.json.access_token)
await call('alice reads herself', 'GET', '/users/me', 200, {
  token: aliceToken,
  show: (a) =>
    `${a.json.username} display_name=${a.json.display_name}; Cache-Control: ${a.headers.get('cache-control')}`,
})
await call('alice may not list users', 'GET', '/users', 403, {
  token: aliceToken,
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
const phone = await call('alice logs in on a phone too', 'POST', '/auth/login', 200, {
  body: { username: 'alice', password: 'Sunflower-Meadow-7' },
  headers: { 'user-agent': 'rvoip-softphone/3.2' },
  show: (a) => `second session, token ${short(a.json.access_token)}`,
})
const sessions = await call('alice lists her sessions', 'GET', `/users/${aliceId}/sessions`, 200, {
  token: aliceToken,
  show: (a) =>
    a.json.map((s) => `${short(s.id)} ua="${s.user_agent}" current=${s.current}`).join('; '),
})
const phoneSession = sessions.json.find((s) => s.user_agent === 'rvoip-softphone/3.2')
await call(
  'alice revokes the phone session',
  'DELETE',
  `/users/${aliceId}/sessions/${phoneSession?.id}`,
  204,
  {
    token: aliceToken,
  },
)
await call('the phone token is now refused', 'GET', '/users/me', 401, {
  token: String(phone.json.access_token),
  show: (a) =>
    `error.code=${(a.json.error as Json).code}; WWW-Authenticate: ${a.headers.get('www-authenticate')}`,
})
await call('alice changes her password', 'POST', `/users/${aliceId}/password`, 204, {
  token: aliceToken,
  body: { old_password: 'Sunflower-Meadow-7', new_password: 'Lighthouse-Harbor-42' },
})
await call('her old token died with the change', 'GET', '/users/me', 401, {
  token: aliceToken,
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
const relogin = await call('alice logs in with the new password', 'POST', '/auth/login', 200, {
  body: { username: 'alice', password: 'Lighthouse-Harbor-42' },
  show: (a) => `user.last_login=${(a.json.user as Json).last_login}`,
})
aliceToken = String(relogin.json.access_token)

// --- API keys --------------------------------------------------------------------------------
const created = await call(
  'alice creates a read-only API key',
  'POST',
  `/users/${aliceId}/api-keys`,
  201,
  {
    token: aliceToken,
    body: { name: 'crm-sync', permissions: ['read'] },
    show: (a) =>
      `key ${short(a.json.key)} (shown once); key_info=${excerpt(JSON.stringify(a.json.key_info), 90)}`,
  },
)
const apiKey = String(created.json.key)
const keyId = String((created.json.key_info as Json).id)
await call('list her API keys', 'GET', `/users/${aliceId}/api-keys`, 200, {
  token: aliceToken,
  show: (a) =>
    a.json
      .map((k) => `${k.name} prefix=${k.key_prefix} permissions=${str(k.permissions)}`)
      .join('; '),
})
await call('the key reads /users/me', 'GET', '/users/me', 200, {
  apiKey,
  show: (a) => `as ${a.json.username}`,
})
await call('the key may not write', 'PUT', `/users/${aliceId}`, 403, {
  apiKey,
  body: { display_name: 'x' },
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
const exchanged = await call('exchange the key for a JWT', 'POST', '/auth/api-key/token', 200, {
  apiKey,
  show: (a) =>
    `${a.json.token_type} ${short(a.json.access_token)} expires_in=${a.json.expires_in} scope="${a.json.scope}" refresh_token=${a.json.refresh_token ?? 'none'}`,
})
await call('introspect alice access token', 'POST', '/auth/introspect', 200, {
  token: admin,
  body: { token: aliceToken },
  show: (a) =>
    `active=${a.json.active} username=${a.json.username} token_type=${a.json.token_type} aud=${str(a.json.aud)} sid=${short(a.json.sid)}`,
})
await call('introspect the API key (form-encoded)', 'POST', '/auth/introspect', 200, {
  token: admin,
  form: { token: apiKey },
  show: (a) => `active=${a.json.active} token_type=${a.json.token_type} scope="${a.json.scope}"`,
})
await call('introspect the exchanged JWT', 'POST', '/auth/introspect', 200, {
  token: admin,
  body: { token: exchanged.json.access_token },
  show: (a) => `active=${a.json.active} sid=${a.json.sid}`,
})
await call('introspect garbage', 'POST', '/auth/introspect', 200, {
  token: admin,
  body: { token: 'not-a-token' },
  show: (a) => `active=${a.json.active}`,
})
await call('revoke the API key', 'DELETE', `/api-keys/${keyId}`, 204, { token: aliceToken })
await call('the revoked key is refused', 'GET', '/users/me', 401, {
  apiKey,
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})

// --- admin operations ------------------------------------------------------------------------
await call('rotate signing keys', 'POST', '/admin/keys/rotate', 200, {
  token: admin,
  show: (a) => {
    const keys = a.json.keys as unknown as Json[]
    return `JWKS now has ${keys.length} keys: ${keys.map((k) => short(k.kid)).join(', ')}`
  },
})
await call('tokens signed before the rotation still work', 'GET', '/users/me', 200, {
  token: aliceToken,
  show: (a) => `as ${a.json.username}`,
})
await call('audit trail', 'GET', '/audit-events?limit=5', 200, {
  token: admin,
  show: (a) =>
    `${a.json.map((e) => e.type).join(', ')}; X-Total-Count: ${a.headers.get('x-total-count')}`,
})
await call(
  'audit trail of alice logins',
  'GET',
  `/audit-events?user_id=${aliceId}&type=user.login.succeeded`,
  200,
  {
    token: admin,
    show: (a) => `${a.json.length} event(s), request_id of the first: ${a.json[0]?.request_id}`,
  },
)
await call('metrics need an admin', 'GET', '/metrics', 401, {
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
await call('metrics', 'GET', '/metrics', 200, {
  token: admin,
  show: (a) => {
    const names = [
      ...new Set(
        a.text
          .split('\n')
          .filter((l) => l.startsWith('# TYPE'))
          .map((l) => l.split(' ')[2]),
      ),
    ]
    return `${names.length} metric families, e.g. ${names
      .filter((n) => n?.startsWith('users_core'))
      .slice(0, 3)
      .join(', ')}`
  },
})
await call('unknown route', 'GET', '/no-such-route', 404, {
  headers: { 'x-request-id': 'demo-request-42' },
  show: (a) => `${excerpt(a.text, 140)}; X-Request-Id: ${a.headers.get('x-request-id')}`,
})

// --- the end of a session and of a user ------------------------------------------------------
await call('alice logs out', 'POST', '/auth/logout', 204, { token: aliceToken, body: {} })
await call('her token is refused after logout', 'GET', '/users/me', 401, {
  token: aliceToken,
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
await call(
  "admin resets bob's password (no old password)",
  'POST',
  `/users/${bobId}/password`,
  204,
  {
    token: admin,
    body: { new_password: 'Granite-Bridge-88' },
  },
)
const adminId = String((adminLogin.json.user as Json).id)
await call('the last admin cannot be deleted', 'DELETE', `/users/${adminId}`, 409, {
  token: admin,
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})
await call('delete bob', 'DELETE', `/users/${bobId}`, 204, { token: admin })
await call('bob is gone', 'GET', `/users/${bobId}`, 404, {
  token: admin,
  show: (a) => `error.code=${(a.json.error as Json).code}`,
})

console.log('')
if (failures.length > 0) {
  console.log(`${failures.length} of ${step} steps FAILED:`)
  for (const f of failures) console.log(`  - ${f}`)
  process.exit(1)
}
console.log(`all ${step} steps returned the expected status`)
