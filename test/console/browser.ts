import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { expect } from 'vitest'
import { type ConfigInput, parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { startServer } from '../../src/http/serve.js'
import { type Clock, systemClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { CHROMIUM, CHROMIUM_ARGS, browserTest as sharedBrowserTest } from '../helpers/chromium.js'

// What the console's browser tests share: Debian's Chromium, a real server, a page that records
// every request it makes and every CSP violation or script error, and screenshots for the docs.

export { CHROMIUM } from '../helpers/chromium.js'

export const ADMIN_PASSWORD = 'Tr0ub4dor-Zephyr-9'
export const USER_PASSWORD = 'Quartz-Meadow-71'

/** Where the tests write the screenshots docs/console.md shows. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/console/', import.meta.url))

/** `it` when Chromium is there or CI requires it (then failing, saying why), else a titled skip. */
export function browserTest(title: string): { run: boolean; title: string } {
  const shared = sharedBrowserTest(title)
  return { run: !shared.skip, title: shared.title }
}

/** A free TCP port on loopback (for a `public_url` that must name `localhost` and its port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** A real server with an admin, its base URL, and the core behind it for setting up data. */
export interface ConsoleServer {
  url: string
  core: UsersCore
  close(): Promise<void>
}

/** The wall clock, moved forward by hand: the server's tokens expire without sleeping. */
export interface ShiftedClock extends Clock {
  advance(ms: number): void
}

/** Creates a {@link ShiftedClock} at the wall clock's time. */
export function createShiftedClock(): ShiftedClock {
  let offsetMs = 0
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance: (ms) => {
      offsetMs += ms
    },
  }
}

/** Starts the real server (cheap Argon2) on `port` (0 = any) with one admin. */
export async function startConsoleServer(
  overrides: ConfigInput = {},
  port = 0,
  clock: Clock = systemClock,
): Promise<ConsoleServer> {
  const logger = createLogger('silent')
  const config = parseConfig({
    database_url: 'sqlite::memory:',
    log_level: 'silent',
    api_bind_address: `127.0.0.1:${port}`,
    password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
    jwt: { algorithm: 'ES256' },
    ...overrides,
  })
  const core = await init(config, { logger, clock })
  await core.createUser({ username: 'admin', password: ADMIN_PASSWORD, roles: ['admin'] })
  const server = await startServer({ core, config, logger })
  return { url: server.url, core, close: () => server.close() }
}

/** A page of a fresh browser context that records what leaves it and what goes wrong in it. */
export interface RecordedPage {
  page: Page
  /** Every URL the page requested. */
  requests: string[]
  /** CSP violations, script errors and console errors other than failed HTTP statuses. */
  problems: string[]
}

/** Launches Chromium. */
export function launch(): Promise<Browser> {
  expect(existsSync(CHROMIUM), `${CHROMIUM} must be installed when CI=true`).toBe(true)
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

/** A page that may reach `origin` only: every other request is recorded and aborted. */
export async function recordedPage(browser: Browser, origin: string): Promise<RecordedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const requests: string[] = []
  const problems: string[] = []
  await page.route('**/*', (route) => {
    const url = route.request().url()
    requests.push(url)
    return url.startsWith(`${origin}/`) ? route.continue() : route.abort()
  })
  page.on('console', (msg) => {
    const text = msg.text()
    // A 4xx the console shows the user is logged by Chromium as an error; that is expected.
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return
    if (msg.type() === 'error' || /Content Security Policy/i.test(text)) {
      problems.push(`console ${msg.type()}: ${text}`)
    }
  })
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  // Runs in the page: report violations the console might not show.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI)
    })`,
  })
  return { page, requests, problems }
}

/** Asserts the page stayed on its origin and met no CSP violation or script error. */
export function expectCleanPage(recorded: RecordedPage, origin: string): void {
  expect(recorded.requests.length).toBeGreaterThan(0)
  expect(recorded.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([])
  expect(recorded.problems).toEqual([])
}

/** Signs in through the form (the password step) and waits for the signed-in header. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.locator('input[name=username]').fill(username)
  await page.locator('input[name=password]').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect
    .poll(() => page.locator('[data-testid=signed-in-as]').textContent(), { timeout: 10_000 })
    .toBe(username)
}

/** Writes `docs/console/<name>.png` (the page as the reader sees it). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: true })
}

/** A JSON call from the test itself (setting up, or checking what the page did). */
export async function api(
  base: string,
  method: string,
  path: string,
  options: { token?: string; apiKey?: string; body?: unknown; userAgent?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {}
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.apiKey) headers['x-api-key'] = options.apiKey
  if (options.userAgent) headers['user-agent'] = options.userAgent
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** Logs in from the test (another device) and returns the token response. */
export async function login(
  base: string,
  username: string,
  password: string,
  userAgent = 'another-device/1.0',
): Promise<{ access_token: string; refresh_token: string; user: { id: string } }> {
  const res = await api(base, 'POST', '/auth/login', {
    body: { username, password },
    userAgent,
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { access_token: string; refresh_token: string; user: { id: string } }
}
