import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { expect, test } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { UsersError } from '../../src/errors.js'
import { startServer } from '../../src/http/serve.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'

function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

test('startServer: configured only by USERS_CORE_* env, real HTTP, graceful close', async () => {
  const env = {
    USERS_CORE_DATABASE_URL: 'sqlite::memory:',
    USERS_CORE_API_BIND_ADDRESS: '127.0.0.1:0',
    USERS_CORE_LOG_LEVEL: 'silent',
    USERS_CORE_PASSWORD_ARGON2_MEMORY_COST: '1024',
    USERS_CORE_PASSWORD_ARGON2_TIME_COST: '1',
    USERS_CORE_PASSWORD_ARGON2_PARALLELISM: '1',
    USERS_CORE_ADMIN_PASSWORD: 'Tr0ub4dor-Zephyr-9',
    USERS_CORE_API_CORS_ALLOW_ORIGINS: 'https://a.example,https://b.example',
  }
  const { config } = loadConfig({ env, cwd: tmpdir() })
  expect(config.api.cors_allow_origins).toEqual(['https://a.example', 'https://b.example'])
  const logger = createLogger('silent')
  const real = await init(config, { logger })
  await real.bootstrapAdmin()
  let coreClosed = false
  let releaseHealth: (() => void) | undefined
  let holdHealth = false
  const core: UsersCore = {
    ...real,
    // Lets the test hold a request in flight while the server closes.
    checkHealth: async () => {
      if (holdHealth) {
        await new Promise<void>((resolve) => {
          releaseHealth = resolve
        })
      }
      await real.checkHealth()
    },
    close: async () => {
      coreClosed = true
      await real.close()
    },
  }
  const server = await startServer({ core, config, logger })
  expect(server.port).toBeGreaterThan(0)
  expect(server.url).toBe(`http://127.0.0.1:${server.port}`)

  const ready = await fetch(`${server.url}/ready`)
  expect(ready.status).toBe(200)
  expect(ready.headers.get('x-request-id')).toBeTruthy()

  const login = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://b.example' },
    body: JSON.stringify({ username: 'admin', password: 'Tr0ub4dor-Zephyr-9' }),
  })
  expect(login.status).toBe(200)
  expect(login.headers.get('access-control-allow-origin')).toBe('https://b.example')
  const { access_token } = (await login.json()) as { access_token: string }
  const me = await fetch(`${server.url}/users/me`, {
    headers: { authorization: `Bearer ${access_token}` },
  })
  expect(((await me.json()) as { username: string }).username).toBe('admin')

  // Oversized headers are refused by Node with 431, not a crash.
  expect(await rawGet(`${server.url}/health`, { 'x-big': 'a'.repeat(20_000) })).toBe(431)
  expect((await fetch(`${server.url}/ready`)).status).toBe(200)

  // A request in flight finishes; close waits for it, then closes the core.
  holdHealth = true
  const inFlight = fetch(`${server.url}/health`)
  await new Promise((r) => setTimeout(r, 50))
  const closing = server.close()
  await new Promise((r) => setTimeout(r, 50))
  expect(coreClosed).toBe(false)
  releaseHealth?.()
  const res = await inFlight
  expect(res.status).toBe(200)
  await closing
  expect(coreClosed).toBe(true)
  await expect(fetch(`${server.url}/ready`)).rejects.toThrow()
  await server.close() // idempotent
})

test('api timeouts and connection caps: defaults, bounds, and headers within the request timeout', () => {
  const { api } = parseConfig({})
  expect(api).toMatchObject({
    request_timeout_seconds: 30,
    headers_timeout_seconds: 10,
    keep_alive_timeout_seconds: 5,
    max_connections: 1024,
    max_connections_per_ip: 64,
  })
  const keysOf = (input: unknown): string[] => {
    try {
      parseConfig(input)
    } catch (error) {
      if (!(error instanceof UsersError)) throw error
      expect(error.code).toBe('VALIDATION_ERROR')
      return (error.details as { key: string }[]).map((d) => d.key)
    }
    return []
  }
  for (const [key, bad] of [
    ['request_timeout_seconds', 0],
    ['request_timeout_seconds', 3601],
    ['headers_timeout_seconds', 0],
    ['keep_alive_timeout_seconds', 0],
    ['keep_alive_timeout_seconds', 601],
    ['max_connections', 0],
    ['max_connections', 1.5],
    ['max_connections_per_ip', 0],
  ] as const) {
    expect(keysOf({ api: { [key]: bad } }), `${key} = ${bad}`).toContain(`api.${key}`)
  }
  expect(keysOf({ api: { request_timeout_seconds: 5, headers_timeout_seconds: 6 } })).toEqual([
    'api.headers_timeout_seconds',
  ])
  expect(keysOf({ api: { max_connections: 10, max_connections_per_ip: 11 } })).toEqual([
    'api.max_connections_per_ip',
  ])
  expect(keysOf({ api: { request_timeout_seconds: 5, headers_timeout_seconds: 5 } })).toEqual([])
})
