import type { Hono } from 'hono'
import type { ConfigInput } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { createApp } from '../../src/http/app.js'
import type { AppEnv } from '../../src/http/context.js'
import { createLogger } from '../../src/lib/logger.js'
import type { User, UsersCore } from '../../src/types.js'

/** Passwords that pass the default policy. */
export const ADMIN_PASSWORD = 'Tr0ub4dor-Zephyr-9'
export const USER_PASSWORD = 'Quartz-Meadow-71'

/** Cheap Argon2 so tests stay fast; everything else at its default unless overridden. */
export function testConfig(overrides: ConfigInput = {}): ConfigInput {
  return {
    database_url: 'sqlite::memory:',
    log_level: 'silent',
    ...overrides,
    password: {
      argon2_memory_cost: 1024,
      argon2_time_cost: 1,
      argon2_parallelism: 1,
      min_length: 8,
      ...overrides.password,
    },
  }
}

/** A JSON body for `app.request()`. */
export function json(method: string, body: unknown, headers: Record<string, string> = {}) {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** A test app on a real in-memory core, with an admin, and helpers to make users and log in. */
export interface TestApp {
  core: UsersCore
  app: Hono<AppEnv>
  admin: User
  /** An access token of the admin. */
  adminToken: string
  /** Logs in and returns the token response JSON. */
  login(username: string, password: string): Promise<Record<string, unknown>>
  /** Creates a non-admin user and logs them in. */
  createUser(username: string, roles?: string[]): Promise<{ user: User; token: string }>
  /** Creates an API key for `userId` (as the admin) and returns the key. */
  createKey(
    userId: string,
    permissions: ('read' | 'write' | 'delete' | 'admin' | 'sip' | '*')[],
  ): Promise<string>
  close(): Promise<void>
}

/** Builds a {@link TestApp}. */
export async function createTestApp(overrides: ConfigInput = {}): Promise<TestApp> {
  const logger = createLogger('silent')
  const core = await init(testConfig(overrides), { logger })
  const app = createApp(core, { logger })
  const admin = await core.createUser({
    username: 'admin',
    password: ADMIN_PASSWORD,
    roles: ['admin'],
  })
  const login = async (username: string, password: string) => {
    const res = await app.request('/auth/login', json('POST', { username, password }))
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`)
    return (await res.json()) as Record<string, unknown>
  }
  const adminToken = (await login('admin', ADMIN_PASSWORD)).access_token as string
  return {
    core,
    app,
    admin,
    adminToken,
    login,
    async createUser(username, roles) {
      const user = await core.createUser({
        username,
        password: USER_PASSWORD,
        ...(roles ? { roles } : {}),
      })
      return { user, token: (await login(username, USER_PASSWORD)).access_token as string }
    },
    async createKey(userId, permissions) {
      const adminPrincipal = await core.authenticateBearer(adminToken)
      const { key } = await core.apiKeys.create(
        { userId, name: `key-${Math.random().toString(36).slice(2)}`, permissions },
        { actor: adminPrincipal },
      )
      return key
    },
    close: () => core.close(),
  }
}

/**
 * The Node bindings `app.request()` passes to the app as if the request came over a socket
 * from `remoteAddress` (in-process requests have no peer, so no proxy header counts for them).
 */
export function socketFrom(remoteAddress: string): never {
  return { incoming: { socket: { remoteAddress } } } as never
}
