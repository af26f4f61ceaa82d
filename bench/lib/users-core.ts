import type { ConfigInput } from '../../src/config/schema.js'
import { ensureBuilt } from './build.js'
import { type JsonChild, startJsonChild } from './child.js'

/** Every seeded user's password (passes the default policy). */
export const BENCH_PASSWORD = 'Bench-Passw0rd-2024'
/** Seeded users are `u0000001` … : prefix + zero-padded number from 1. */
export const USER_PREFIX = 'u'
export const USER_PAD = 7

/** What `bench/server.ts` is told through BENCH_SERVER. */
export interface ServerOptions {
  /** `[users_core]` settings; database_url, api_bind_address and log_level are set by the bench. */
  config: ConfigInput
  /** Users to seed through the bulk path. */
  users: number
  /** Default `silent`: the figures measure the service, not writing access logs. */
  logLevel?: 'silent' | 'info' | 'warn'
}

/** What `bench/server.ts` announces once listening. */
export interface ServerInfo {
  url: string
  pid: number
  dbPath: string
  /** Database size after seeding (main file + WAL after a checkpoint). */
  dbBytes: number
  users: number
  seedMs: number
  /** `*` key of the admin `benchadmin`. */
  adminApiKey: string
  /** `read` key of user 1 (present when users were seeded). */
  apiKey?: string
}

/**
 * Settings shared by every scenario: the spec's defaults (Argon2id 64 MiB, t=3, p=4; RS256)
 * except that rate limits are off, so they measure the service and not the limiter, and the
 * per-address connection cap is lifted, since every load generator here is 127.0.0.1.
 */
export function benchConfig(overrides: ConfigInput = {}): ConfigInput {
  return {
    ...overrides,
    api: { max_connections: 4096, max_connections_per_ip: 4096, ...overrides.api },
    rate_limit: { enabled: false, ...overrides.rate_limit },
  }
}

/** Starts a users-core server child, from a fresh build of dist/ (see `ensureBuilt`). */
export async function startUsersCore(
  options: ServerOptions,
  nodeArgs: string[] = [],
): Promise<JsonChild<ServerInfo>> {
  await ensureBuilt()
  return startJsonChild<ServerInfo>(
    'bench/server.ts',
    { BENCH_SERVER: JSON.stringify(options) },
    600_000,
    nodeArgs,
  )
}

/** The request part of a load spec: logins of random seeded users 1…`count`. */
export function loginRequests(count: number) {
  return {
    method: 'POST' as const,
    path: '/auth/login',
    mode: {
      kind: 'login' as const,
      prefix: USER_PREFIX,
      count,
      pad: USER_PAD,
      password: BENCH_PASSWORD,
    },
  }
}

/** Username of seeded user n. */
export function seededUsername(n: number): string {
  return `${USER_PREFIX}${String(n).padStart(USER_PAD, '0')}`
}

/** Logs in over HTTP; throws on anything but 200. */
export async function login(
  url: string,
  username: string,
  password = BENCH_PASSWORD,
): Promise<{ access_token: string; refresh_token: string }> {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`)
  return (await res.json()) as { access_token: string; refresh_token: string }
}

/** `count` sessions of distinct seeded users, two logins at a time. */
export async function loginMany(
  url: string,
  count: number,
): Promise<{ access_token: string; refresh_token: string }[]> {
  const sessions: { access_token: string; refresh_token: string }[] = []
  let next = 1
  const worker = async () => {
    while (next <= count) {
      const n = next++
      sessions.push(await login(url, seededUsername(n)))
    }
  }
  await Promise.all([worker(), worker()])
  return sessions
}
