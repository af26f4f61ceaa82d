import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import type { ConfigInput } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { createApp } from '../../src/http/app.js'
import {
  DOCS_ASSET_CACHE_CONTROL,
  DOCS_CSP,
  registerDocsRoutes,
  swaggerUiDistDir,
} from '../../src/http/docs.js'
import { openApiDocument } from '../../src/http/openapi.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { assertResponseMatches } from '../helpers/openapi-validator.js'

const PUBLIC_URL = 'https://users.example.test'
const cores: UsersCore[] = []

/** The real app, which mounts the docs routes itself. */
async function docsApp(overrides: ConfigInput = {}) {
  const core = await init(
    {
      database_url: 'sqlite::memory:',
      log_level: 'silent',
      public_url: PUBLIC_URL,
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

describe('/openapi.json', () => {
  it('serves the document with this instance as its server', async () => {
    const app = await docsApp()
    const res = await app.request('/openapi.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await assertResponseMatches('GET', '/openapi.json', res)) as Record<
      string,
      unknown
    >
    expect(body.servers).toEqual([{ url: PUBLIC_URL, description: expect.any(String) }])
    const doc = openApiDocument()
    expect(body.paths).toEqual(JSON.parse(JSON.stringify(doc.paths)))
    expect(body.info).toEqual(JSON.parse(JSON.stringify(doc.info)))
  })
})

describe('/docs', () => {
  it('serves a page that runs only scripts from this origin, under a strict CSP', async () => {
    const app = await docsApp()
    const res = await app.request('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    const html = await assertResponseMatches('GET', '/docs', res)
    expect(html).toContain('<div id="swagger-ui"></div>')
    const scripts = [...String(html).matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((m) => m[1]?.match(/src="([^"]+)"/)?.[1])).toEqual([
      'docs/assets/swagger-ui-bundle.js',
      'docs/assets/init.js',
    ])
    expect(scripts.every((m) => m[2]?.trim() === '')).toBe(true)
    expect(html).not.toMatch(/(https?:)?\/\/[a-z]/i)
  })

  it('serves the installed swagger-ui-dist files, cacheable for a day', async () => {
    const app = await docsApp()
    for (const [file, type] of [
      ['swagger-ui-bundle.js', /^text\/javascript/],
      ['swagger-ui.css', /^text\/css/],
      ['favicon-32x32.png', /^image\/png/],
    ] as const) {
      const res = await app.request(`/docs/assets/${file}`)
      expect(res.status, file).toBe(200)
      expect(res.headers.get('content-type'), file).toMatch(type)
      expect(res.headers.get('cache-control'), file).toBe(DOCS_ASSET_CACHE_CONTROL)
      expect(res.headers.get('content-security-policy'), file).toBe(DOCS_CSP)
      const bytes = Buffer.from(await res.arrayBuffer())
      expect(bytes.equals(readFileSync(join(swaggerUiDistDir(), file))), file).toBe(true)
    }
  })

  it('initialises Swagger UI from an external script that loads only /openapi.json', async () => {
    const app = await docsApp()
    const res = await app.request('/docs/assets/init.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/)
    const script = await res.text()
    expect(script).toContain("new URL('openapi.json', document.baseURI)")
    expect(script).toContain('validatorUrl: null')
    expect(script).not.toMatch(/https?:\/\//)
  })

  it('answers the JSON 404 for any other asset name, including path tricks', async () => {
    const app = await docsApp()
    for (const path of [
      '/docs/assets/index.html',
      '/docs/assets/package.json',
      '/docs/assets/..%2F..%2Fpackage.json',
      '/docs/assets/swagger-ui-bundle.js.map',
    ]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('NOT_FOUND')
    }
  })
})

describe('api.docs_enabled = false', () => {
  it('mounts nothing', () => {
    const app = new Hono()
    const config = { api: { docs_enabled: false } } as Parameters<
      typeof registerDocsRoutes
    >[1]['config']
    registerDocsRoutes(app, { config })
    expect(app.routes).toEqual([])
  })

  it('answers 404 in the error envelope on every docs path', async () => {
    const app = await docsApp({ api: { docs_enabled: false } })
    for (const path of ['/docs', '/openapi.json', '/docs/assets/swagger-ui-bundle.js']) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      const body = (await res.json()) as { error: { code: string }; request_id: string }
      expect(body.error.code, path).toBe('NOT_FOUND')
      expect(body.request_id).toBe(res.headers.get('x-request-id'))
    }
  })
})
