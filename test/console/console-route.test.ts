import { Writable } from 'node:stream'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { type ConfigInput, parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { UsersError } from '../../src/errors.js'
import { createApp } from '../../src/http/app.js'
import type { AppEnv } from '../../src/http/context.js'
import { CONSOLE_CSP, registerConsoleRoutes } from '../../src/http/routes/console.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { assertResponseMatches } from '../helpers/openapi-validator.js'

// The console (SPEC §13) as the server hands it out: one page and its hashed assets, a strict
// CSP of their own, revalidation by ETag, and nothing at all when switched off. The build is the
// one test/setup/build-console.ts made for this run.

const cores: UsersCore[] = []

async function consoleApp(overrides: ConfigInput = {}) {
  const core = await init(
    {
      database_url: 'sqlite::memory:',
      log_level: 'silent',
      password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
      jwt: { algorithm: 'ES256' },
      ...overrides,
    },
    { logger: createLogger('silent') },
  )
  cores.push(core)
  return createApp(core, { logger: createLogger('silent') })
}

afterAll(async () => {
  for (const core of cores) await core.close()
})

/** The asset URLs the page loads, in order. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '')
}

describe('GET /console', () => {
  it('serves a page that loads only its own script and stylesheet, under the console CSP', async () => {
    const app = await consoleApp()
    const res = await app.request('/console')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
    expect(CONSOLE_CSP).toContain("script-src 'self'")
    expect(CONSOLE_CSP).toContain("connect-src 'self'")
    expect(CONSOLE_CSP).not.toContain('unsafe-inline')
    expect(CONSOLE_CSP).not.toContain('unsafe-eval')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const html = String(await assertResponseMatches('GET', '/console', res))
    // No inline script or style: every <script> is empty and names a file of this server.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts).toHaveLength(1)
    expect(scripts[0]?.[2]).toBe('')
    expect(html).not.toMatch(/<style|style="/)
    expect(html).not.toMatch(/(https?:)?\/\/[a-z]/i)
    const assets = assetsOf(html)
    expect(assets).toEqual([
      expect.stringMatching(/^console\/assets\/styles-[A-Z0-9]+\.css$/),
      expect.stringMatching(/^console\/assets\/app-[A-Z0-9]+\.js$/),
    ])
  })

  it('serves the assets for good and answers 304 to a matching If-None-Match, CSP kept', async () => {
    const app = await consoleApp()
    const html = await (await app.request('/console')).text()
    for (const asset of assetsOf(html)) {
      const res = await app.request(`/${asset}`)
      expect(res.status, asset).toBe(200)
      expect(res.headers.get('content-type')).toMatch(
        asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      )
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000)
      const etag = res.headers.get('etag')
      expect(etag).toMatch(/^"[\w-]+"$/)
      const again = await app.request(`/${asset}`, { headers: { 'If-None-Match': `W/${etag}` } })
      expect(again.status).toBe(304)
      expect(again.headers.get('etag')).toBe(etag)
      expect(again.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
    }
    const page = await app.request('/console')
    const etag = page.headers.get('etag') ?? ''
    const revalidated = await app.request('/console', { headers: { 'If-None-Match': etag } })
    expect(revalidated.status).toBe(304)
    // A 304 updates the cached page's headers: it must carry the console CSP, not the API's.
    expect(revalidated.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
    expect(revalidated.headers.get('cache-control')).toBe('no-cache')
  })

  it('answers the JSON 404 for any other asset name, including path tricks', async () => {
    const app = await consoleApp()
    for (const path of [
      '/console/assets/index.html',
      '/console/assets/constructor',
      '/console/assets/__proto__',
      '/console/assets/..%2Findex.html',
      '/console/assets/..%2F..%2F..%2Fpackage.json',
      '/console/index.html',
    ]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      const body = (await res.json()) as { error: { code: string }; request_id: string }
      expect(body.error.code, path).toBe('NOT_FOUND')
      expect(body.request_id).toBe(res.headers.get('x-request-id'))
    }
  })
})

describe('api.console_enabled = false', () => {
  it('is a boolean key that defaults to true', () => {
    expect(parseConfig({}).api.console_enabled).toBe(true)
    expect(() =>
      parseConfig({ api: { console_enabled: 'yes' } } as unknown as ConfigInput),
    ).toThrow(/console_enabled/)
  })

  it('answers 404 in the error envelope on the page and its assets', async () => {
    const enabled = await consoleApp()
    const asset = assetsOf(await (await enabled.request('/console')).text())[1]
    const app = await consoleApp({ api: { console_enabled: false } })
    for (const path of ['/console', `/${asset}`]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      const body = (await res.json()) as { error: { code: string } }
      expect(body.error.code).toBe('NOT_FOUND')
    }
  })
})

describe('without a build', () => {
  it('says so once in the log and answers 404 naming npm run build', async () => {
    const lines: string[] = []
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const logger = createLogger('warn', destination)
    const app = new Hono<AppEnv>()
    registerConsoleRoutes(app, {
      config: parseConfig({}),
      logger,
      buildDir: '/nonexistent/users-core-console',
    })
    app.onError((err, c) => {
      const e = err as UsersError
      return c.json({ code: e.code, message: e.message }, e.status as 404)
    })
    for (const path of ['/console', '/console/assets/app.js']) {
      const res = await app.request(path)
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({
        code: 'NOT_FOUND',
        message: expect.stringMatching(/npm run build/),
      })
    }
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/console not built/),
    })
    expect(new UsersError('NOT_FOUND').status).toBe(404)
  })
})
