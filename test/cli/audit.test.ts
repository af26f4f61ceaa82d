import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { createSandbox, GOOD_PASSWORD, runCli, TEST_ENV } from './cli-harness.js'

const CHAIN_KEY = 'cli-audit-chain-key-0123456789abcdef'
const keyed = createSandbox()
const unkeyed = createSandbox()
afterAll(() => {
  keyed.cleanup()
  unkeyed.cleanup()
})
const keyedEnv = { ...keyed.env, USERS_CORE_AUDIT_CHAIN_KEY: CHAIN_KEY }

const SLOW = { timeout: 120_000 }

describe('audit verify with audit.chain_key', SLOW, () => {
  it('exits 0 on a keyed chain, and 1 once the tail is cut and the head rewritten', async () => {
    const cli = (args: string[]) => runCli(args, { env: keyedEnv, cwd: keyed.dir })
    for (const name of ['root', 'alice', 'bob']) {
      expect((await cli(['user', 'create', name, '--password', GOOD_PASSWORD])).code).toBe(0)
    }
    const ok = await cli(['audit', 'verify'])
    expect(ok).toMatchObject({ code: 0, stderr: '' })
    expect(ok.stdout).toMatch(/^audit chain ok \(3 events, keyed\)\n$/)

    const db = new Database(keyed.dbFile)
    db.prepare('delete from audit_events where seq = 3').run()
    db.prepare(
      'update audit_chain set head_seq = 2, head_hash = (select hash from audit_events where seq = 2)',
    ).run()
    db.close()
    const broken = await cli(['audit', 'verify'])
    expect(broken.code).toBe(1)
    expect(broken.stdout).toBe('')
    expect(broken.stderr).toMatch(/^users-core: audit chain broken at seq \d+: .+\n$/)
    expect(broken.stderr).not.toContain(CHAIN_KEY)
  })
})

describe('audit verify without a key', SLOW, () => {
  it('exits 0 and says the chain is unkeyed', async () => {
    const cli = (args: string[]) => runCli(args, { env: unkeyed.env, cwd: unkeyed.dir })
    expect((await cli(['user', 'create', 'root', '--password', GOOD_PASSWORD])).code).toBe(0)
    const ok = await cli(['audit', 'verify'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^audit chain ok \(1 events, unkeyed: .+\)\n$/)
  })
})

describe('audit.chain_key in config check and print', SLOW, () => {
  it('config check warns once that the chain is unkeyed, and not when a key is set', async () => {
    const bare = await runCli(['config', 'check'], { env: { ...TEST_ENV }, cwd: unkeyed.dir })
    expect(bare.code).toBe(0)
    expect(bare.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^users-core: warning: .*audit\.chain_key/),
    ])
    const withKey = await runCli(['config', 'check'], {
      env: { ...TEST_ENV, USERS_CORE_AUDIT_CHAIN_KEY: CHAIN_KEY },
      cwd: unkeyed.dir,
    })
    expect(withKey).toMatchObject({ code: 0, stderr: '' })
  })

  it('config print redacts the key, and a short key is refused', async () => {
    const printed = await runCli(['config', 'print', '--json'], {
      env: { ...TEST_ENV, USERS_CORE_AUDIT_CHAIN_KEY: CHAIN_KEY },
      cwd: unkeyed.dir,
    })
    expect(printed.code).toBe(0)
    expect(printed.stdout).not.toContain(CHAIN_KEY)
    expect(JSON.parse(printed.stdout).audit.chain_key).toBe('[redacted]')
    const short = await runCli(['config', 'check'], {
      env: { ...TEST_ENV, USERS_CORE_AUDIT_CHAIN_KEY: 'too-short' },
      cwd: unkeyed.dir,
    })
    expect(short.code).toBe(1)
    expect(short.stderr).toContain('audit.chain_key')
    expect(short.stderr).not.toContain('too-short')
  })
})
