import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { init } from '../../src/core.js'
import { createLogger } from '../../src/lib/logger.js'
import { CHEAP_ARGON2 } from '../helpers/create-test-core.js'
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js'

// Crash safety: SIGKILL the real server process during a storm of creates, logins and
// refreshes, restart it on the same SQLite file, and find every write that was acknowledged.
//
// SQLite runs in WAL mode with synchronous=NORMAL. A commit is complete once its frames are in
// the WAL file (the OS page cache), so it survives the death of the process; only a power loss
// or kernel crash before the next checkpoint's fsync could lose the newest commits. A SIGKILL of
// the process is therefore a case where no acknowledged write may be lost.

const ADMIN_PASSWORD = 'Crash-Admin-Pass-1'
const USER_PASSWORD = 'Crash-User-Pass-42'
// Longer than a restart, so a refresh that committed but whose answer the kill swallowed is
// still inside the grace when the client retries with the token it last received (see below).
const GRACE_SECONDS = 300
const SESSIONS = 12
const STORM_MIN_MS = 1000
const STORM_MAX_MS = 10_000
const MIN_CREATES = 20
const MIN_LOGINS = 20
const MIN_REFRESHES = 100

const dir = mkdtempSync(join(tmpdir(), 'users-core-crash-'))
const databaseUrl = `sqlite://${join(dir, 'users.db')}`
const env = {
  USERS_CORE_DATABASE_URL: databaseUrl,
  USERS_CORE_ADMIN_PASSWORD: ADMIN_PASSWORD,
  USERS_CORE_RATE_LIMIT_ENABLED: 'false',
  USERS_CORE_JWT_REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS),
}
const running: ServerProcess[] = []

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()))
  rmSync(dir, { recursive: true, force: true })
})

interface Answer {
  status: number
  body: Record<string, unknown>
}

async function call(
  server: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  // An answer counts as acknowledged only once its whole body has arrived.
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

async function start(): Promise<ServerProcess> {
  const server = await startServerProcess(env)
  running.push(server)
  return server
}

async function adminToken(server: ServerProcess): Promise<string> {
  const res = await call(server, 'POST', '/auth/login', {
    username: 'admin',
    password: ADMIN_PASSWORD,
  })
  expect(res.status).toBe(200)
  return res.body.access_token as string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `task` in a loop until `stopped()`; a failed request (the kill) ends the loop. */
async function loop(stopped: () => boolean, task: () => Promise<void>): Promise<void> {
  while (!stopped()) {
    try {
      await task()
    } catch {
      return
    }
  }
}

/** Runs `work` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++] as T
        await work(item)
      }
    }),
  )
}

describe('crash safety (SIGKILL during a write storm, SQLite file)', { timeout: 90_000 }, () => {
  it('keeps every acknowledged create, login and refresh, an intact file and a verifying audit chain', async () => {
    const first = await start()
    const admin = await adminToken(first)

    // Sessions for the refresh workers, made before the storm.
    const seedNames = Array.from({ length: SESSIONS }, (_, i) => `seed_${i}`)
    for (const username of seedNames) {
      const res = await call(first, 'POST', '/users', { username, password: USER_PASSWORD }, admin)
      expect(res.status).toBe(201)
    }

    // What the storm had acknowledged: created users, login sessions, and per refreshed session
    // the latest refresh token the client received.
    const created = new Map<string, string>()
    const loginTokens: string[] = []
    let killed = false
    const stopped = () => killed
    let creates = 0
    let refreshes = 0

    const sessions = await Promise.all(
      seedNames.map(async (username) => {
        const res = await call(first, 'POST', '/auth/login', { username, password: USER_PASSWORD })
        expect(res.status).toBe(200)
        return res.body.refresh_token as string
      }),
    )
    const latestRefresh = new Map(sessions.map((token, i) => [i, token]))

    const creators = Array.from({ length: 4 }, (_, w) =>
      loop(stopped, async () => {
        const username = `storm_${w}_${creates++}`
        const res = await call(
          first,
          'POST',
          '/users',
          { username, password: USER_PASSWORD },
          admin,
        )
        if (res.status === 201) created.set(username, res.body.id as string)
      }),
    )
    const loginers = Array.from({ length: 3 }, (_, w) =>
      loop(stopped, async () => {
        const username = seedNames[w] as string
        const res = await call(first, 'POST', '/auth/login', { username, password: USER_PASSWORD })
        if (res.status === 200) loginTokens.push(res.body.refresh_token as string)
      }),
    )
    // One worker per session refreshes it in sequence, always with the last token it received.
    const refreshers = sessions.map((_, i) =>
      loop(stopped, async () => {
        const res = await call(first, 'POST', '/auth/refresh', {
          refresh_token: latestRefresh.get(i),
        })
        if (res.status === 200) {
          latestRefresh.set(i, res.body.refresh_token as string)
          refreshes++
        }
      }),
    )

    // Kill at a random moment once the storm has acknowledged enough to prove something.
    const stormStarted = Date.now()
    while (
      (Date.now() - stormStarted < STORM_MIN_MS ||
        created.size < MIN_CREATES ||
        loginTokens.length < MIN_LOGINS ||
        refreshes < MIN_REFRESHES) &&
      Date.now() - stormStarted < STORM_MAX_MS
    ) {
      await sleep(20)
    }
    await sleep(Math.floor(Math.random() * 700))
    const exited = new Promise((resolve) => first.child.once('exit', resolve))
    first.child.kill('SIGKILL')
    killed = true
    await exited
    await Promise.all([...creators, ...loginers, ...refreshers])
    running.splice(running.indexOf(first), 1)

    // A storm that acknowledged little would prove little.
    expect(created.size).toBeGreaterThanOrEqual(MIN_CREATES)
    expect(loginTokens.length).toBeGreaterThanOrEqual(MIN_LOGINS)
    expect(refreshes).toBeGreaterThanOrEqual(MIN_REFRESHES)

    const second = await start()
    const admin2 = await adminToken(second)

    // 1. Every acknowledged create is there, with a password hash that works.
    const ids = new Set<string>()
    for (let offset = 0; ; offset += 1000) {
      const page = await fetch(`${second.url}/users?limit=1000&offset=${offset}`, {
        headers: { authorization: `Bearer ${admin2}` },
      })
      const users = (await page.json()) as { id: string }[]
      for (const u of users) ids.add(u.id)
      if (users.length < 1000) break
    }
    const missing = [...created].filter(([, id]) => !ids.has(id))
    expect(missing).toEqual([])
    for (const username of [...created.keys()].slice(-5)) {
      const res = await call(second, 'POST', '/auth/login', { username, password: USER_PASSWORD })
      expect(res.status).toBe(200)
    }

    // 2. Every acknowledged login's session is there: its refresh token refreshes.
    const lostLogins: string[] = []
    await eachLimited(loginTokens, 8, async (token) => {
      const res = await call(second, 'POST', '/auth/refresh', { refresh_token: token })
      if (res.status !== 200) lostLogins.push(`${res.status} ${JSON.stringify(res.body)}`)
    })
    expect(lostLogins).toEqual([])

    // 3. Refreshes. Each session was refreshed in sequence, so an acknowledged rotation is
    // superseded only by the next acknowledged one, and only the latest token a client received
    // may still be presented (an earlier one is a replay and would rightly revoke the session).
    // That latest token must work after the restart: either its rotation was the last to commit
    // (it is the current token and rotates again), or the request that carried it committed
    // its own rotation before the kill swallowed the answer — then it is the previous token
    // inside the grace, and the server answers with the sealed successor. A lost rotation shows
    // as INVALID_TOKEN (the token is unknown, or older than previous, i.e. a "replay").
    const lostRefreshes: string[] = []
    await eachLimited([...latestRefresh], 4, async ([i, token]) => {
      const res = await call(second, 'POST', '/auth/refresh', { refresh_token: token })
      if (res.status !== 200) lostRefreshes.push(`session ${i}: ${res.status}`)
    })
    expect(lostRefreshes).toEqual([])

    expect(await second.stop()).toBe(0)
    running.splice(running.indexOf(second), 1)

    // 4. The file is intact and the audit chain (written in the same transactions) verifies.
    const db = new BetterSqlite3(databaseUrl.slice('sqlite://'.length), { readonly: true })
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(db.pragma('foreign_key_check')).toEqual([])
    } finally {
      db.close()
    }
    const core = await init(
      { database_url: databaseUrl, log_level: 'silent', password: CHEAP_ARGON2 },
      { logger: createLogger('silent') },
    )
    try {
      const verification = await core.audit.verify()
      expect(verification.problem).toBeUndefined()
      expect(verification.ok).toBe(true)
      // Every acknowledged create left its audit event.
      const createdEvents = await core.audit.list({ type: 'user.created', limit: 1 })
      expect(createdEvents.total).toBeGreaterThanOrEqual(created.size + SESSIONS + 1)
    } finally {
      await core.close()
    }
  })
})
