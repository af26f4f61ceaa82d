import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// SPEC §10: every example is a program the suite runs, as a reader would, in a child process.
// Argon2 and key generation are made cheap through the USERS_CORE_* variables the examples read;
// the examples' own defaults are the spec's real ones.

const repo = fileURLToPath(new URL('../..', import.meta.url))
const TIMEOUT_MS = 60_000

/** The parent's environment without USERS_CORE_* (a developer's settings must not leak in). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('USERS_CORE_')),
  )
}

const CHEAP_ENV = {
  USERS_CORE_PASSWORD_ARGON2_MEMORY_COST: '1024',
  USERS_CORE_PASSWORD_ARGON2_TIME_COST: '1',
  USERS_CORE_PASSWORD_ARGON2_PARALLELISM: '1',
  // RSA key generation costs seconds on this machine; ES256 keys are instant.
  USERS_CORE_JWT_ALGORITHM: 'ES256',
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: repo, env: { ...cleanEnv(), ...CHEAP_ENV, ...env }, timeout: TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const runExample = (file: string, args: string[] = []) =>
  run(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args])

/** Expects exit 0, with both streams in the failure message so a broken example explains itself. */
function expectSuccess(result: Run): void {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0)
}

describe.concurrent('examples', () => {
  it('basic-usage: create, log in, refresh, change password', { timeout: TIMEOUT_MS }, async () => {
    const result = await runExample('basic-usage.ts')
    expectSuccess(result)
    expect(result.stdout).toContain('1. created user alice')
    expect(result.stdout).toMatch(/2\. logged in: Bearer access token \(900 s\)/)
    expect(result.stdout).toContain('3. refreshed: new refresh token rotated')
    expect(result.stdout).toContain('old refresh token rejected: INVALID_TOKEN')
    expect(result.stdout).toContain('old access token rejected: UNAUTHORIZED')
    expect(result.stdout).toContain('old password rejected: INVALID_CREDENTIALS')
    expect(result.stdout).toContain('5. logged in with the new password as alice')
  })

  it('jwt-validation: accepts a good token, rejects the rest', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const result = await runExample('jwt-validation.ts')
    expectSuccess(result)
    const out = result.stdout
    expect(out).toMatch(/valid token for SIP: accepted/)
    expect(out).toMatch(/same token after exp: rejected \(ERR_JWT_EXPIRED/)
    expect(out).toMatch(/tampered token: rejected \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/)
    expect(out).toMatch(
      /wrong audience \(billing\): rejected \(ERR_JWT_CLAIM_VALIDATION_FAILED: aud/,
    )
    expect(out).toMatch(/wrong issuer: rejected \(ERR_JWT_CLAIM_VALIDATION_FAILED: iss/)
    expect(out).toMatch(/token without sip\.register: rejected \(missing scope sip\.register\)/)
  })

  it('api-key-service: read key, 403 on write, exchange, rotation', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const result = await runExample('api-key-service.ts')
    expectSuccess(result)
    const out = result.stdout
    expect(out).toContain('GET /users/me with X-API-Key: 200')
    expect(out).toContain('PUT /users/{id} with a read-only key (write refused): 403')
    expect(out).toContain('POST /auth/api-key/token: 200')
    expect(out).toContain('refresh token: none')
    expect(out).toContain('new key works: 200')
    expect(out).toContain('old key after revocation: 401')
    expect(out).toContain('new key after revocation: 200')
  })

  it('sip-register-flow: 200 with a token, 401 + challenge without', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const result = await runExample('sip-register-flow.ts')
    expectSuccess(result)
    const out = result.stdout
    expect(out).toContain('REGISTER with Bearer token: SIP/2.0 200 OK')
    expect(out).toMatch(/Contact: <sip:alice@127\.0\.0\.1:\d+>;expires=600/)
    expect(out).toMatch(
      /REGISTER without token: SIP\/2\.0 401 Unauthorized\n\s+WWW-Authenticate: Bearer realm="rvoip"/,
    )
    expect(out).toMatch(
      /REGISTER with tampered token: SIP\/2\.0 401 Unauthorized\n\s+WWW-Authenticate: Bearer realm="rvoip", error="invalid_token"/,
    )
  })

  it('rest-api-server: prints URL and generated admin password, drains on SIGTERM', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'users-core-example-server-'))
    let child: ChildProcess | undefined
    try {
      child = spawn(process.execPath, ['--import', 'tsx', 'examples/rest-api-server.ts'], {
        cwd: repo,
        env: {
          ...cleanEnv(),
          ...CHEAP_ENV,
          USERS_CORE_DATABASE_URL: `sqlite://${join(dir, 'users.db')}`,
          USERS_CORE_API_BIND_ADDRESS: '127.0.0.1:0',
          USERS_CORE_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8')
      })
      const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve))
      const url = await new Promise<string>((resolve, reject) => {
        child?.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8')
          const match = /users-core listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)
          if (match?.[1]) resolve(match[1])
        })
        void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)))
      })
      const password = /generated password:\s+(\S+)/.exec(stderr)?.[1]
      expect(password, stderr).toBeDefined()

      expect((await fetch(`${url}/health`)).status).toBe(200)
      const login = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      })
      expect(login.status).toBe(200)
      // The generated password is printed once on stderr and never logged.
      expect(stdout).not.toContain(String(password))

      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(stdout).toContain('users-core stopped')
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rest-api-demo/run_demo.sh: every endpoint answers as expected', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const result = await run('bash', ['examples/rest-api-demo/run_demo.sh'])
    expectSuccess(result)
    expect(result.stdout).not.toContain('FAIL')
    expect(result.stdout).toMatch(/all \d+ steps returned the expected status/)
    for (const route of [
      'POST /auth/login',
      'POST /auth/refresh',
      'POST /auth/api-key/token',
      'POST /auth/logout',
      'POST /auth/introspect',
      'GET /auth/jwks.json',
      'GET /.well-known/jwks.json',
      'GET /.well-known/openid-configuration',
      'POST /users ',
      'GET /users?limit=2',
      'GET /users/me',
      'PUT /users/',
      'DELETE /users/',
      '/password',
      '/roles',
      '/sessions',
      '/api-keys',
      'DELETE /api-keys/',
      'POST /admin/keys/rotate',
      'GET /audit-events',
      'GET /health',
      'GET /ready',
      'GET /metrics',
      'GET /openapi.json',
      'GET /docs',
    ]) {
      expect(result.stdout).toContain(route)
    }
  })
})
