import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSandbox, runCli, TEST_ENV } from './cli-harness.js'

const box = createSandbox()
afterAll(() => box.cleanup())

describe('config check', { timeout: 120_000 }, () => {
  it('names every bad key of a TOML file in one line and exits 1', async () => {
    const file = join(box.dir, 'bad.toml')
    writeFileSync(
      file,
      [
        '[users_core]',
        'databse_url = "sqlite://x.db"',
        '[users_core.password]',
        'min_length = -3',
      ].join('\n'),
    )
    const r = await runCli(['config', 'check', '--config', file], { env: { ...TEST_ENV } })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(r.stderr).toMatch(/^users-core: invalid configuration: /)
    expect(r.stderr).toContain('databse_url')
    expect(r.stderr).toContain('password.min_length')
  })

  it('bounds the hashing cost: memory, passes and concurrency, each named', async () => {
    const cpus = availableParallelism()
    const r = await runCli(['config', 'check'], {
      env: {
        ...TEST_ENV,
        USERS_CORE_PASSWORD_ARGON2_MEMORY_COST: '1048577',
        USERS_CORE_PASSWORD_ARGON2_TIME_COST: '21',
        USERS_CORE_PASSWORD_MAX_CONCURRENT_HASHES: String(4 * cpus + 1),
      },
      cwd: box.dir,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^users-core: invalid configuration: /)
    for (const key of [
      'password.argon2_memory_cost',
      'password.argon2_time_cost',
      'password.max_concurrent_hashes',
    ]) {
      expect(r.stderr).toContain(key)
    }
    const atLimit = await runCli(['config', 'check'], {
      env: {
        ...TEST_ENV,
        USERS_CORE_PASSWORD_ARGON2_MEMORY_COST: '1048576',
        USERS_CORE_PASSWORD_ARGON2_TIME_COST: '20',
        USERS_CORE_PASSWORD_MAX_CONCURRENT_HASHES: String(4 * cpus),
        USERS_CORE_AUDIT_CHAIN_KEY: 'k'.repeat(32),
      },
      cwd: box.dir,
    })
    expect(atLimit).toMatchObject({ code: 0, stderr: '' })
  })

  it('accepts the defaults plus environment, and says where the config came from', async () => {
    const r = await runCli(['config', 'check'], { env: { ...TEST_ENV }, cwd: box.dir })
    expect(r).toMatchObject({ code: 0, stdout: 'config ok (source: defaults)\n' })
    // The defaults leave the audit chain unkeyed, which check says once (test/cli/audit.test.ts).
    expect(r.stderr).toMatch(/^users-core: warning: the audit chain is not keyed: .+\n$/)
  })

  it('rejects an unknown USERS_CORE_ variable, which would otherwise silently do nothing', async () => {
    const r = await runCli(['config', 'check'], {
      env: { ...TEST_ENV, USERS_CORE_JWT_ISSEUR: 'https://x' },
      cwd: box.dir,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'users-core: invalid configuration: USERS_CORE_JWT_ISSEUR: unknown environment variable\n',
    )
  })
})

describe('config print', { timeout: 120_000 }, () => {
  it('shows the effective config with flags over env over file, secrets redacted', async () => {
    const file = join(box.dir, 'secrets.toml')
    writeFileSync(
      file,
      [
        '[users_core]',
        'database_url = "postgres://users:db-hunter2@db.internal:5432/users"',
        'log_level = "debug"',
        '[users_core.jwt]',
        'key_encryption_secret = "jwt-secret-0123456789abcdef"',
        'issuer = "https://from-file"',
      ].join('\n'),
    )
    const env = {
      ...TEST_ENV,
      USERS_CORE_ADMIN_PASSWORD: 'Admin-Secret-77',
      USERS_CORE_JWT_ISSUER: 'https://from-env',
    }
    const [toml, json] = await Promise.all([
      runCli(['config', 'print', '--config', file], { env }),
      runCli(
        ['config', 'print', '--json', '--config', file, '--database-url', 'sqlite://flag.db'],
        {
          env,
        },
      ),
    ])
    expect(toml.code).toBe(0)
    expect(toml.stderr).toBe('')
    for (const secret of ['db-hunter2', 'jwt-secret-0123456789abcdef', 'Admin-Secret-77']) {
      expect(toml.stdout).not.toContain(secret)
      expect(json.stdout).not.toContain(secret)
    }
    expect(toml.stdout).toContain(
      'database_url = "postgres://users:[redacted]@db.internal:5432/users"',
    )
    expect(toml.stdout).toContain('key_encryption_secret = "[redacted]"')
    expect(toml.stdout).toContain('admin_password = "[redacted]"')
    expect(toml.stdout).toContain('issuer = "https://from-env"')
    expect(toml.stdout).toContain('log_level = "debug"')

    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout)
    expect(parsed.database_url).toBe('sqlite://flag.db')
    expect(parsed.jwt.key_encryption_secret).toBe('[redacted]')
    expect(parsed.bootstrap.admin_password).toBe('[redacted]')
    expect(parsed.password.argon2_memory_cost).toBe(1024)
  })

  it('hides every credential of the database and Redis URLs, however they are written', async () => {
    const cases: [string, string, string, string][] = [
      // [database_url, redis_url, secret, what stays visible]
      [
        'postgres://users:p@ss-hunter2@db.internal:5432/users',
        'redis://default:r@dis-hunter2@cache.internal:6379/0',
        'hunter2',
        'db.internal:5432/users',
      ],
      [
        'postgresql://db.internal/users?user=users&password=q-hunter2&sslmode=require',
        'rediss://:plain-hunter2@cache.internal:6380',
        'hunter2',
        'sslmode=require',
      ],
    ]
    for (const [databaseUrl, redisUrl, secret, visible] of cases) {
      const env = {
        ...TEST_ENV,
        USERS_CORE_DATABASE_URL: databaseUrl,
        USERS_CORE_RATE_LIMIT_REDIS_URL: redisUrl,
      }
      const [toml, json] = await Promise.all([
        runCli(['config', 'print'], { env, cwd: box.dir }),
        runCli(['config', 'print', '--json'], { env, cwd: box.dir }),
      ])
      expect(toml.code).toBe(0)
      expect(json.code).toBe(0)
      expect(toml.stdout).not.toContain(secret)
      expect(json.stdout).not.toContain(secret)
      const parsed = JSON.parse(json.stdout)
      expect(parsed.database_url).toContain(visible)
      expect(parsed.rate_limit.redis_url).toContain('cache.internal')
    }
  })
})
