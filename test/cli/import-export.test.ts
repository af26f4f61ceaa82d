import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import { afterAll, describe, expect, it } from 'vitest'
import { init } from '../../src/core.js'
import { createLogger } from '../../src/lib/logger.js'
import { createSandbox, runCli } from './cli-harness.js'

const box = createSandbox()
const cli = (args: string[]) => runCli(args, { env: box.env, cwd: box.dir })
afterAll(() => box.cleanup())

const CONFIGURED = '$argon2id$v=19$m=1024,t=1,p=1$'

async function exportedUsers(file: string): Promise<Map<string, { password_hash: string }>> {
  const lines = readFileSync(file, 'utf8').trim().split('\n')
  return new Map(lines.map((l) => JSON.parse(l)).map((u) => [u.username, u]))
}

describe('import and export', { timeout: 120_000 }, () => {
  it('imports bcrypt and argon2id users, counts bad and duplicate lines, and upgrades at login', async () => {
    const bcryptHash = bcrypt.hashSync('Bcrypt-Pass-42', 4)
    // Other Argon2id parameters than configured, so the upgrade at login is visible.
    const argonHash = await argon2Hash('Argon-Pass-42', {
      algorithm: 2,
      memoryCost: 2048,
      timeCost: 2,
      parallelism: 1,
    })
    const file = join(box.dir, 'users.jsonl')
    writeFileSync(
      file,
      [
        JSON.stringify({
          username: 'carol',
          password_hash: bcryptHash,
          email: 'carol@example.com',
        }),
        JSON.stringify({
          username: 'dave',
          password_hash: argonHash,
          roles: ['ops'],
          active: true,
        }),
        '{"username": "eve", "password_hash": ',
        '',
        JSON.stringify({ username: 'Carol', password_hash: bcryptHash }),
      ].join('\n'),
    )

    const imported = await cli(['import', file])
    expect(imported.stderr).toBe('')
    expect(imported.code).toBe(0)
    const lines = imported.stdout.trim().split('\n')
    expect(lines[0]).toBe('imported 2, skipped 1, failed 1')
    expect(lines.slice(1)).toEqual([
      '  line 3: failed: invalid JSON',
      expect.stringMatching(/^ {2}line 5: skipped: \S.*/),
    ])

    const core = await init(
      {
        database_url: box.databaseUrl,
        jwt: { algorithm: 'ES256' },
        password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
      },
      { logger: createLogger('silent') },
    )
    try {
      const carol = await core.authenticatePassword('carol', 'Bcrypt-Pass-42')
      expect(carol.user).toMatchObject({ username: 'carol', email: 'carol@example.com' })
      const dave = await core.authenticatePassword('DAVE', 'Argon-Pass-42')
      expect(dave.user.roles).toEqual(['ops'])
    } finally {
      await core.close()
    }

    const out = join(box.dir, 'export.jsonl')
    const [exported, toStdout] = await Promise.all([cli(['export', out]), cli(['export', '-'])])
    expect(exported).toMatchObject({ code: 0, stdout: `exported 2 users to ${out}\n`, stderr: '' })
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(toStdout.code).toBe(0)
    expect(toStdout.stderr).toBe('exported 2 users\n')
    expect(toStdout.stdout).toBe(readFileSync(out, 'utf8'))

    const users = await exportedUsers(out)
    expect([...users.keys()].sort()).toEqual(['carol', 'dave'])
    expect(users.get('carol')?.password_hash.startsWith(CONFIGURED)).toBe(true)
    expect(users.get('dave')?.password_hash.startsWith(CONFIGURED)).toBe(true)
    expect(users.get('carol')?.password_hash).not.toBe(bcryptHash)

    // Never silently replaces a file of hashes.
    const again = await cli(['export', out])
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(`users-core: ${out} exists (use --force to overwrite)\n`)

    // What export writes, import takes back whole.
    const fresh = createSandbox()
    try {
      const back = await runCli(['import', out], { env: fresh.env, cwd: fresh.dir })
      expect(back).toMatchObject({ code: 0, stdout: 'imported 2, skipped 0, failed 0\n' })
    } finally {
      fresh.cleanup()
    }
  })

  it('fails lines whose hash costs more than the bound or whose fields break the API schema', async () => {
    const good = bcrypt.hashSync('Bcrypt-Pass-42', 4)
    const rest = `${'C'.repeat(22)}E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW`
    const digest = 'c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY'
    const rows = [
      { username: 'slow1', password_hash: `$argon2id$v=19$m=1024,t=150000,p=1$${digest}` },
      { username: 'slow2', password_hash: `$2b$17$${rest}` },
      { username: 'slow3', password_hash: `$2b$31$${rest}` },
      { username: 'slow4', password_hash: `$scrypt$ln=14,r=8,p=200$${digest}` },
      { username: 'frank', password_hash: good, active: 'false' },
      { username: 'gina', password_hash: good, is_admin: true },
      { username: 'hank', password_hash: good, created_at: 'last tuesday' },
      { username: 'ivy', password_hash: good, active: false },
    ]
    const fresh = createSandbox()
    try {
      const file = join(fresh.dir, 'bounds.jsonl')
      writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'))
      const r = await runCli(['import', file], { env: fresh.env, cwd: fresh.dir })
      expect(r.code).toBe(0)
      const lines = r.stdout.trim().split('\n')
      expect(lines[0]).toBe('imported 1, skipped 0, failed 7')
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/^ {2}line 1: failed: password_hash: \S/),
        expect.stringMatching(/^ {2}line 2: failed: password_hash: \S/),
        expect.stringMatching(/^ {2}line 3: failed: password_hash: \S/),
        expect.stringMatching(/^ {2}line 4: failed: password_hash: \S/),
        expect.stringMatching(/^ {2}line 5: failed: active: \S/),
        expect.stringMatching(/^ {2}line 6: failed: .*is_admin/),
        expect.stringMatching(/^ {2}line 7: failed: created_at: \S/),
      ])
      const list = await runCli(['user', 'list', '--json'], { env: fresh.env, cwd: fresh.dir })
      expect(JSON.parse(list.stdout)).toEqual([
        expect.objectContaining({ username: 'ivy', active: false }),
      ])
    } finally {
      fresh.cleanup()
    }
  })

  it('exits 1 when the file cannot be read', async () => {
    const missing = join(box.dir, 'nope.jsonl')
    const r = await cli(['import', missing])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      new RegExp(`^users-core: cannot read ${missing}: [^\\n]*ENOENT[^\\n]*\\n$`),
    )
  })
})
