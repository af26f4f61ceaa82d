import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { startServer } from '../../src/http/serve.js'
import { createLogger } from '../../src/lib/logger.js'
import { browserTest, CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.js'

// SPEC §6: the reference at /docs "loads nothing from the internet". Only a real browser shows
// that the page renders under its CSP without reaching elsewhere.
const TITLE = 'renders /docs in headless Chromium from this server only, with no CSP violation'

/** The real server on a free port. */
async function start(): Promise<{ url: string; close: () => Promise<void> }> {
  const logger = createLogger('silent')
  const config = parseConfig({
    database_url: 'sqlite::memory:',
    log_level: 'silent',
    api_bind_address: '127.0.0.1:0',
    password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
    jwt: { algorithm: 'ES256' },
  })
  const core = await init(config, { logger })
  const server = await startServer({ core, config, logger })
  return { url: server.url, close: () => server.close() }
}

describe('/docs in a browser', () => {
  const { skip, title, hasChromium } = browserTest(TITLE)

  it.skipIf(skip)(title, { timeout: 90_000 }, async () => {
    expect(hasChromium, `${CHROMIUM} must be installed when CI=true`).toBe(true)
    const server = await start()
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    try {
      const page = await browser.newPage()
      const requests: string[] = []
      const problems: string[] = []
      await page.route('**/*', (route) => {
        const url = route.request().url()
        requests.push(url)
        return url.startsWith(`${server.url}/`) ? route.continue() : route.abort()
      })
      page.on('console', (msg) => {
        if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) {
          problems.push(`console ${msg.type()}: ${msg.text()}`)
        }
      })
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      // Runs in the page (no DOM types here): report violations the console might not show.
      await page.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) => {
          console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI)
        })`,
      })

      const response = await page.goto(`${server.url}/docs`)
      expect(response?.status()).toBe(200)
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 })
      const paths = await page.$$eval('.opblock-summary-path', (els) =>
        els.map((el) => el.getAttribute('data-path')),
      )
      expect(paths).toContain('/auth/login')
      expect(paths).toContain('/users/{id}')
      expect(paths).toContain('/.well-known/jwks.json')
      expect(await page.locator('.info .title').first().textContent()).toContain('users-core')

      // Expand an operation (highlighted examples, schemas) and a model, so the CSP is checked
      // against what a reader does, not only the first paint.
      await page.locator('.opblock-summary', { hasText: '/auth/login' }).first().click()
      await page.waitForSelector('.opblock.is-open .microlight, .opblock.is-open .highlight-code', {
        timeout: 10_000,
      })
      await page.locator('.opblock.is-open .tablinks', { hasText: 'Schema' }).first().click()
      await page.waitForSelector('.opblock.is-open .model-box', { timeout: 10_000 })
      await page.locator('section.models .models-control').click()
      await page.locator('section.models .json-schema-2020-12-expand-deep-button').first().click()
      await page.waitForSelector('section.models.is-open .json-schema-2020-12-body', {
        timeout: 10_000,
      })
      await page.locator('.auth-wrapper .authorize').click()
      await page.waitForSelector('.modal-ux .auth-container', { timeout: 10_000 })
      await page.locator('.modal-ux .close-modal').click()

      expect(requests).toContain(`${server.url}/openapi.json`)
      expect(requests.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([])
      expect(problems).toEqual([])
    } finally {
      await browser.close()
      await server.close()
    }
  })
})
