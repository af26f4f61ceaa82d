// Service accounts and API keys (SPEC §5): a PBX integration gets a key with `read` permission,
// uses it, trades it for a short-lived JWT for services that accept only JWTs, and is rotated by
// create-then-revoke so the integration never has a moment without a working key.
//
//   npx tsx examples/api-key-service.ts
import { startLocalUsersCore } from './shared/local-users-core.js'

const local = await startLocalUsersCore()
const base = local.url

async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  }
}

function expect(label: string, status: number, expected: number): void {
  console.log(`${label}: ${status}`)
  if (status !== expected) throw new Error(`${label}: expected ${expected}, got ${status}`)
}

try {
  // An operator creates the service account and its first key (here through the library; the
  // same is POST /users and POST /users/{id}/api-keys over HTTP).
  const pbx = await local.core.createUser({
    username: 'pbx-berlin-01',
    password: 'Service-Account-Only-73',
    displayName: 'PBX Berlin 01',
    roles: ['service'],
  })
  const first = await local.core.apiKeys.create({
    userId: pbx.id,
    name: 'pbx-2026-q1',
    permissions: ['read'],
  })
  console.log(`created service user ${pbx.username} and key "${first.apiKey.name}"`)
  console.log(`  key shown once: ${first.key.slice(0, 22)}… (stored: SHA-256 only)`)
  console.log(`  key_prefix ${first.apiKey.keyPrefix}, permissions ${first.apiKey.permissions}`)

  const me = await call('GET', '/users/me', { 'X-API-Key': first.key })
  expect('GET /users/me with X-API-Key', me.status, 200)
  console.log(`  acting as ${me.json?.username}`)
  const meBearer = await call('GET', '/users/me', { Authorization: `Bearer ${first.key}` })
  expect('GET /users/me with Authorization: Bearer <key>', meBearer.status, 200)

  const write = await call(
    'PUT',
    `/users/${pbx.id}`,
    { 'X-API-Key': first.key },
    {
      display_name: 'renamed by a read-only key',
    },
  )
  expect('PUT /users/{id} with a read-only key (write refused)', write.status, 403)
  const err = write.json?.error as { code?: string } | undefined
  console.log(`  error code ${err?.code}`)

  const exchanged = await call('POST', '/auth/api-key/token', { 'X-API-Key': first.key })
  expect('POST /auth/api-key/token', exchanged.status, 200)
  const jwt = String(exchanged.json?.access_token)
  console.log(
    `  ${exchanged.json?.token_type} token for ${exchanged.json?.expires_in} s, scope "${exchanged.json?.scope}", refresh token: ${'refresh_token' in (exchanged.json ?? {}) ? 'yes' : 'none'}`,
  )
  const viaJwt = await call('GET', '/users/me', { Authorization: `Bearer ${jwt}` })
  expect('GET /users/me with the exchanged JWT', viaJwt.status, 200)

  // Rotation: create the successor, deploy it, then revoke the old key.
  const second = await local.core.apiKeys.create({
    userId: pbx.id,
    name: 'pbx-2026-q2',
    permissions: ['read'],
  })
  console.log(`rotation: created key "${second.apiKey.name}" (${second.apiKey.keyPrefix})`)
  expect(
    '  new key works',
    (await call('GET', '/users/me', { 'X-API-Key': second.key })).status,
    200,
  )
  expect(
    '  old key still works until revoked',
    (await call('GET', '/users/me', { 'X-API-Key': first.key })).status,
    200,
  )
  await local.core.apiKeys.revoke(first.apiKey.id)
  console.log(`  revoked key "${first.apiKey.name}"`)
  expect(
    '  old key after revocation',
    (await call('GET', '/users/me', { 'X-API-Key': first.key })).status,
    401,
  )
  expect(
    '  new key after revocation',
    (await call('GET', '/users/me', { 'X-API-Key': second.key })).status,
    200,
  )
  const keys = await local.core.apiKeys.list(pbx.id)
  console.log(`  keys listed for ${pbx.username}: ${keys.map((k) => k.name).join(', ')}`)
  console.log(
    `  library validate(old key): ${(await local.core.apiKeys.validate(first.key)) ? 'valid' : 'undefined'}`,
  )
  console.log('done')
} finally {
  await local.close()
}
