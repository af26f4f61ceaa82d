import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The project's own biome.json, run over a scratch tree that breaks each rule once: if a rule
// is removed or stops matching, the lint run passes and so does the violation — this test fails.
const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const BIOME = join(ROOT, 'node_modules/.bin/biome')
const DOMAIN_FOLDERS = [
  'domain',
  'users',
  'sessions',
  'audit',
  'tokens',
  'api-keys',
  'auth',
  'passwords',
  'lockout',
  'rate-limit',
  'secrets',
  'sip',
  'mfa',
  'lib',
]
const FORBIDDEN = [
  "import { sql } from 'kysely'",
  "import Database from 'better-sqlite3'",
  "import pg from 'pg'",
  "import { Redis } from 'ioredis'",
  "import { Hono } from 'hono'",
  "import { openStore } from '../storage/open-store.js'",
  "import { createApp } from '../http/app.js'",
  "import { main } from '../cli/main.js'",
]

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'users-core-deps-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Lints `files` (path → source) in a scratch tree under the project's biome.json; its report. */
async function lint(files: Record<string, string>): Promise<string> {
  const tree = mkdtempSync(join(dir, 'tree-'))
  cpSync(join(ROOT, 'biome.json'), join(tree, 'biome.json'))
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(join(tree, path, '..'), { recursive: true })
    writeFileSync(join(tree, path), source)
  }
  try {
    await run(BIOME, ['lint', '--vcs-enabled=false', '--max-diagnostics=1000', '.'], { cwd: tree })
    return ''
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    return stdout + stderr
  }
}

describe('lint rules keep dependencies pointing inward', () => {
  test.each(DOMAIN_FOLDERS)(
    'src/%s may import no driver, query builder, framework, storage/, http/ or cli/',
    async (folder) => {
      const files = Object.fromEntries(
        FORBIDDEN.map((line, i) => [
          `src/${folder}/bad-${i}.ts`,
          `${line}\nexport const x${i} = 1\n`,
        ]),
      )
      const report = await lint(files)
      for (let i = 0; i < FORBIDDEN.length; i++) {
        expect(report, FORBIDDEN[i]).toMatch(
          new RegExp(`bad-${i}\\.ts:1:\\d+ lint/style/noRestrictedImports`),
        )
      }
    },
    60_000,
  )

  test('storage, http and cli may use them', async () => {
    const report = await lint({
      'src/storage/ok.ts': "import { sql } from 'kysely'\nexport const q = sql`select 1`\n",
      'src/http/ok.ts': "import { Hono } from 'hono'\nexport const app = new Hono()\n",
    })
    expect(report).not.toMatch(/noRestrictedImports/)
  })

  test('an import cycle is an error', async () => {
    const report = await lint({
      'src/users/a.ts': "import { b } from './b.js'\nexport const a = () => b\n",
      'src/users/b.ts': "import { a } from './a.js'\nexport const b = () => a\n",
    })
    expect(report).toMatch(/lint\/suspicious\/noImportCycles/)
    expect(report).toMatch(/error|×/)
  })
})
