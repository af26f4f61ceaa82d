import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSandbox, GOOD_PASSWORD, runCli } from './cli-harness.js'

const box = createSandbox()
const cli = (args: string[], input?: string) =>
  runCli(args, { env: box.env, cwd: box.dir, ...(input !== undefined ? { input } : {}) })

beforeAll(async () => {
  const r = await cli(['migrate'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  expect(r.stdout).toMatch(/applied: \S+/)
})
afterAll(() => box.cleanup())

// Each command is a real process (~1 s of CPU); on a loaded 2-core machine a dozen of them in
// sequence can pass the default 30 s.
const SLOW = { timeout: 120_000 }

describe('user commands', SLOW, () => {
  it('create → list → show → set-roles → deactivate → delete', async () => {
    // An admin first: the last active admin can be neither demoted nor deleted.
    const [root, created] = await Promise.all([
      cli(['user', 'create', 'root', '--password', GOOD_PASSWORD, '--role', 'admin']),
      cli(
        [
          'user',
          'create',
          'alice',
          '--password-stdin',
          '--email',
          'alice@example.com',
          '--display-name',
          'Alice A',
          '--role',
          'operator',
          '--role',
          'user',
          '--json',
        ],
        `${GOOD_PASSWORD}\n`,
      ),
    ])
    expect(root).toMatchObject({ code: 0, stderr: '' })
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const alice = JSON.parse(created.stdout)
    expect(alice).toMatchObject({
      username: 'alice',
      email: 'alice@example.com',
      display_name: 'Alice A',
      roles: ['operator', 'user'],
      active: true,
    })
    expect(alice).not.toHaveProperty('password_hash')

    const [table, json, show] = await Promise.all([
      cli(['user', 'list']),
      cli(['user', 'list', '--role', 'operator', '--json']),
      cli(['user', 'show', 'ALICE']),
    ])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^ID\s+USERNAME\s+EMAIL/)
    expect(table.stdout).toMatch(/alice\s+alice@example\.com\s+operator,user\s+yes/)
    expect(table.stdout).toContain('1-2 of 2 users')
    expect(JSON.parse(json.stdout).map((u: { id: string }) => u.id)).toEqual([alice.id])
    expect(show.code).toBe(0)
    expect(show.stdout).toContain(`id:           ${alice.id}`)
    expect(show.stdout).toContain('display name: Alice A')

    const [roles, off] = await Promise.all([
      cli(['user', 'set-roles', alice.id, 'support', 'billing.read']),
      cli(['user', 'deactivate', 'alice']),
    ])
    expect(roles).toMatchObject({ code: 0, stdout: 'roles of alice: support, billing.read\n' })
    expect(off).toMatchObject({ code: 0, stdout: 'deactivated alice\n', stderr: '' })
    const after = JSON.parse((await cli(['user', 'show', 'alice', '--json'])).stdout)
    expect(after).toMatchObject({ roles: ['support', 'billing.read'], active: false })

    const [reset, on] = await Promise.all([
      cli(['user', 'set-password', 'alice', '--password-stdin'], 'Another-Horse-43\n'),
      cli(['user', 'activate', alice.id]),
    ])
    expect(reset).toMatchObject({
      code: 0,
      stdout: 'password of alice changed; their sessions are revoked\n',
      stderr: '',
    })
    expect(on).toMatchObject({ code: 0, stdout: 'activated alice\n', stderr: '' })

    const deleted = await cli(['user', 'delete', 'alice'])
    expect(deleted).toMatchObject({ code: 0, stderr: '' })
    const gone = await cli(['user', 'show', 'alice'])
    expect(gone).toMatchObject({ code: 1, stdout: '', stderr: 'users-core: no such user: alice\n' })
  })

  it('fails in one line: a weak password naming every failed rule, no password off a terminal', async () => {
    const [weak, none, taken] = await Promise.all([
      cli(['user', 'create', 'bob', '--password', 'short']),
      cli(['user', 'create', 'bob']),
      cli(['user', 'create', 'Root', '--password', GOOD_PASSWORD]),
    ])
    expect(weak.code).toBe(1)
    expect(weak.stderr).toMatch(/^users-core: [^\n]*8 characters[^\n]*uppercase[^\n]*\n$/)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^users-core: no password given[^\n]*\n$/)
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/^users-core: [^\n]+\n$/)
    expect(taken.stderr).not.toMatch(/\bat .*\.ts:\d+/)
  })
})

describe('keys commands', SLOW, () => {
  it('lists the current and next key, and rotation adds a new next key', async () => {
    const before = JSON.parse((await cli(['keys', 'list', '--json'])).stdout)
    expect(before.map((k: { status: string }) => k.status).sort()).toEqual(['current', 'next'])
    const rotated = await cli(['keys', 'rotate'])
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toMatch(/^signing keys rotated\nKID\s+ALG\s+STATUS/)
    const table = await cli(['keys', 'list'])
    expect(table.code).toBe(0)
    for (const key of before) expect(table.stdout).toContain(key.kid)
    expect(table.stdout.trim().split('\n')).toHaveLength(1 + before.length + 1)
  })
})

describe('audit commands', SLOW, () => {
  it('verifies the chain, then names the seq of a row edited behind its back and exits 1', async () => {
    const ok = await cli(['audit', 'verify'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    const count = Number(/^audit chain ok \((\d+) events, unkeyed: .+\)\n$/.exec(ok.stdout)?.[1])
    expect(count).toBeGreaterThanOrEqual(5)

    const listed = JSON.parse(
      (await cli(['audit', 'list', '--type', 'user.created', '--json'])).stdout,
    )
    const names = listed.map((e: { details: { username: string } }) => e.details.username)
    expect(names.sort()).toEqual(['alice', 'root'])

    const db = new Database(box.dbFile)
    const row = db
      .prepare("select seq from audit_events where type = 'user.created' order by seq limit 1")
      .get() as { seq: number }
    db.prepare('update audit_events set details = \'{"username":"mallory"}\' where seq = ?').run(
      row.seq,
    )
    db.close()

    const broken = await cli(['audit', 'verify'])
    expect(broken.code).toBe(1)
    expect(broken.stdout).toBe('')
    expect(broken.stderr).toMatch(
      new RegExp(`^users-core: audit chain broken at seq ${row.seq}: .+\\n$`),
    )
  })
})
