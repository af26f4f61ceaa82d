import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTestCore } from '../helpers/create-test-core.js'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

/** Every src/ module reachable from `entry` through relative static or dynamic imports. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      visit(join(dirname(file), `${m[1]}.ts`))
    }
  }
  visit(join(SRC, entry))
  return new Set([...seen].map((f) => relative(SRC, f)))
}

// SPEC §9: the library reads no environment variable and no config file unless asked.
describe('init() reads no environment and no config file', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('the core never reaches the config loader or the CLI', () => {
    const modules = reachable('core.ts')
    expect(modules.has('config/schema.ts')).toBe(true)
    expect(modules.has('config/load.ts')).toBe(false)
    expect([...modules].filter((m) => m.startsWith('cli/'))).toEqual([])
  })

  it('ignores USERS_CORE_* variables', async () => {
    vi.stubEnv('USERS_CORE_JWT_ISSUER', 'https://from-the-environment.example')
    vi.stubEnv('USERS_CORE_CONFIG', '/nonexistent/users_core.toml')
    const { core } = await createTestCore()
    try {
      expect(core.config.jwt.issuer).toBe('https://users.rvoip.local')
    } finally {
      await core.close()
    }
  })
})
