import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import bcrypt from 'bcryptjs'
import { afterAll, describe, expect, it } from 'vitest'
import type { CliIo, CliOutput } from '../../src/cli/context.js'
import { importUsers } from '../../src/cli/import.js'
import { createTestCore } from '../helpers/create-test-core.js'
import { runCli, TEST_ENV } from './cli-harness.js'

const dir = mkdtempSync(join(tmpdir(), 'users-core-import-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function terminal(): CliOutput & { text: () => string } {
  const chunks: string[] = []
  const out = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk))
      done()
    },
  })
  return Object.assign(out, { isTTY: true, text: () => chunks.join('') })
}

describe('importUsers (in process)', () => {
  it('draws a progress bar only on a terminal, batches, and lists at most 20 problems', async () => {
    const hash = bcrypt.hashSync('Bcrypt-Pass-42', 4)
    const good = ['ann', 'ben', 'cid'].map((u) =>
      JSON.stringify({ username: u, password_hash: hash }),
    )
    const bad = Array.from({ length: 24 }, (_, i) =>
      i % 2 === 0 ? `not json ${i}` : JSON.stringify({ username: 'x', password_hash: 'plain' }),
    )
    const file = join(dir, 'many.jsonl')
    // A BOM, an array line and a number line must count as failed, not crash the import.
    writeFileSync(file, `\uFEFF${[...good, ...bad, '[1]', '42'].join('\r\n')}\r\n`)

    const { core } = await createTestCore()
    try {
      const stderr = terminal()
      const stdout = terminal()
      const io: CliIo = { stdin: Readable.from([]), stdout, stderr, env: {}, cwd: dir }
      const summary = await importUsers(core, file, io, 2)
      expect(summary).toMatchObject({ imported: 3, skipped: 0, failed: 26, unlisted: 6 })
      expect(summary.problems).toHaveLength(20)
      expect(summary.problems[0]).toEqual({ line: 4, status: 'failed', reason: 'invalid JSON' })
      expect(summary.problems[1]).toMatchObject({ line: 5, status: 'failed' })
      expect(stderr.text()).toMatch(/\r\[#{30}\] 100% {2}29 lines/)
      expect(stderr.text().endsWith('\r\u001b[2K')).toBe(true)
      expect(stdout.text()).toBe('')
      expect((await core.users.list()).total).toBe(3)

      // Not a terminal: not a single byte of progress.
      const quiet = terminal()
      Object.assign(quiet, { isTTY: false })
      const again = await importUsers(core, file, { ...io, stderr: quiet }, 500)
      expect(again).toMatchObject({ imported: 0, skipped: 3, failed: 26 })
      expect(quiet.text()).toBe('')
    } finally {
      await core.close()
    }
  })
})

describe('hash calibrate', () => {
  it('prints TOML lines for [users_core.password] and the measured time', async () => {
    const r = await runCli(
      ['hash', 'calibrate', '--target-ms', '5', '--max-memory-kib', '1024', '--parallelism', '1'],
      { env: { ...TEST_ENV } },
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /^# one hash took \d+\.\d ms here \(target 5 ms\)\n\[users_core\.password\]\nargon2_memory_cost = \d+\nargon2_time_cost = \d+\nargon2_parallelism = 1\n$/,
    )
  })
})
