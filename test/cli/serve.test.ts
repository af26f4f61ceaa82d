import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type CliResult, collect, createSandbox, runCli, spawnCli } from './cli-harness.js'

const box = createSandbox()
const running = new Set<ChildProcessWithoutNullStreams>()
afterEach(() => {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
})
afterAll(() => box.cleanup())

interface Served {
  url: string
  /** Standard error up to and including the "listening" line. */
  banner: string
  stop(): Promise<CliResult>
}

/** Starts `serve` on a free port and waits for its "listening" line. */
async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawnCli(['serve', '--bind', '127.0.0.1:0', '--log-level', 'warn'], { env })
  running.add(child)
  const done = collect(child)
  let stderr = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 25_000)
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
      const match = /users-core listening on (\S+)\n/.exec(stderr)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    void done.then((r) => reject(new Error(`serve exited ${r.code}: ${r.stderr}`)))
  })
  return {
    url,
    banner: stderr,
    async stop() {
      child.kill('SIGTERM')
      const result = await done
      running.delete(child)
      return result
    },
  }
}

async function login(url: string, username: string, password: string) {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  return { status: res.status, body: (await res.json()) as { access_token?: string } }
}

describe('serve', { timeout: 120_000 }, () => {
  it('prints a generated admin password once on a fresh database, keeps it across a restart, exits 0 on SIGTERM', async () => {
    const first = await serve(box.env)
    const match = /created admin 'admin' with password: (\S+) \(shown once; change it\)/.exec(
      first.banner,
    )
    expect(match, first.banner).not.toBeNull()
    const password = match?.[1] ?? ''
    expect(password.length).toBeGreaterThanOrEqual(16)
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    const ok = await login(first.url, 'admin', password)
    expect(ok.status).toBe(200)
    expect(ok.body.access_token).toEqual(expect.any(String))

    const stopped = await first.stop()
    expect(stopped.code).toBe(0)
    expect(stopped.stderr.split(password)).toHaveLength(2)
    expect(stopped.stdout).not.toContain(password)

    const second = await serve(box.env)
    // Besides the one warning that the test config leaves the audit chain unkeyed.
    expect(
      second.banner.replace(/^users-core: warning: the audit chain is not keyed: .+\n/, ''),
    ).toBe(`users-core listening on ${second.url}\n`)
    expect((await login(second.url, 'admin', password)).status).toBe(200)
    const again = await second.stop()
    expect(again.code).toBe(0)
    expect(again.stderr).not.toContain('password')
    expect(again.stdout).not.toContain(password)
  })

  it('a user the operator CLI deactivates meanwhile is refused on the next request, by token and by API key', async () => {
    // The server answers these lookups from memory while the SQLite file is unchanged; a commit
    // by another process (here the CLI) must end that at once.
    const fresh = createSandbox()
    try {
      const secret = 'Configured-Admin-Pass-9'
      const server = await serve({ ...fresh.env, USERS_CORE_ADMIN_PASSWORD: secret })
      const admin = (await login(server.url, 'admin', secret)).body.access_token as string
      const asAdmin = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }
      const created = await fetch(`${server.url}/users`, {
        method: 'POST',
        headers: asAdmin,
        body: JSON.stringify({ username: 'bob', password: 'Correct-Horse-42' }),
      })
      const bob = (await created.json()) as { id: string }
      const issued = await fetch(`${server.url}/users/${bob.id}/api-keys`, {
        method: 'POST',
        headers: asAdmin,
        body: JSON.stringify({ name: 'pbx', permissions: ['read'] }),
      })
      const { key } = (await issued.json()) as { key: string }
      const token = (await login(server.url, 'bob', 'Correct-Horse-42')).body.access_token as string
      const me = async () => [
        (await fetch(`${server.url}/users/me`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
        (await fetch(`${server.url}/users/me`, { headers: { 'x-api-key': key } })).status,
      ]
      expect([await me(), await me()]).toEqual([
        [200, 200],
        [200, 200],
      ])
      const off = await runCli(['user', 'deactivate', 'bob'], { env: fresh.env })
      expect(off.code, off.stderr).toBe(0)
      expect(await me()).toEqual([401, 401])
      expect((await server.stop()).code).toBe(0)
    } finally {
      fresh.cleanup()
    }
  })

  it('says the admin was created from the configured password without printing it', async () => {
    const fresh = createSandbox()
    try {
      const secret = 'Configured-Admin-Pass-9'
      const server = await serve({ ...fresh.env, USERS_CORE_ADMIN_PASSWORD: secret })
      expect(server.banner).toContain(
        "users-core: created admin 'admin' with the configured bootstrap.admin_password\n",
      )
      expect((await login(server.url, 'admin', secret)).status).toBe(200)
      const stopped = await server.stop()
      expect(stopped.code).toBe(0)
      expect(`${stopped.stdout}${stopped.stderr}`).not.toContain(secret)
    } finally {
      fresh.cleanup()
    }
  })
})
