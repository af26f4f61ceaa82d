import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../bin/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'users-core-bin-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// Stands in for dist/cli/main.js: blocks 6 pool threads on FIFOs nobody writes to yet, then asks
// the pool for a stat. With the default pool of 4 the stat cannot run; with 16 it answers.
const PROBE = `
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
const fifos = [0, 1, 2, 3, 4, 5].map((i) => new URL('./fifo' + i, import.meta.url).pathname)
for (const f of fifos) execFileSync('mkfifo', [f])
for (const f of fifos) fs.open(f, 'r', () => {})
const finish = (verdict) => {
  for (const f of fifos) fs.writeFileSync(f, 'x')
  process.stdout.write(verdict + ' ' + process.env.UV_THREADPOOL_SIZE)
  process.exit(0)
}
const timer = setTimeout(() => finish('blocked'), 3000)
fs.stat('/', () => { clearTimeout(timer); finish('free') })
`

describe.skipIf(process.platform === 'win32')('bin/users-core.js', () => {
  it('enlarges the libuv pool before anything can touch it', async () => {
    mkdirSync(join(dir, 'bin'))
    mkdirSync(join(dir, 'dist/cli'), { recursive: true })
    copyFileSync(join(BIN, 'users-core.js'), join(dir, 'bin/users-core.js'))
    copyFileSync(join(BIN, 'package.json'), join(dir, 'bin/package.json'))
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
    writeFileSync(join(dir, 'dist/cli/main.js'), PROBE)
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' }
    const child = spawn(process.execPath, [join(dir, 'bin/users-core.js')], { env })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
    })
    const code = await new Promise((resolve) => child.once('close', resolve))
    expect(code).toBe(0)
    expect(stdout).toBe('free 16')
  })
})
