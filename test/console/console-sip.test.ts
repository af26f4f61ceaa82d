import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ADMIN_PASSWORD,
  api,
  browserTest,
  type ConsoleServer,
  expectCleanPage,
  launch,
  login,
  recordedPage,
  screenshot,
  signIn,
  startConsoleServer,
  USER_PASSWORD,
} from './browser.js'

// SPEC §11 through the console (§13), in Chromium against a real server: a user creates a SIP
// credential for a device and sees its secret once, then revokes it; an admin does the same for
// them. The secret never comes back from the list.

const test = browserTest(
  'SIP credentials: create (secret shown once), list, revoke, as user and admin',
)

describe('SIP credentials in the console', () => {
  let server: ConsoleServer
  let browser: Browser

  beforeAll(async () => {
    if (!test.run) return
    server = await startConsoleServer()
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  ;(test.run ? it : it.skip)(test.title, { timeout: 90_000 }, async () => {
    const base = server.url
    const frank = await server.core.createUser({ username: 'frank', password: USER_PASSWORD })
    const token = (await login(base, 'frank', USER_PASSWORD)).access_token
    // Fails at once, not after a timeout, on a server without the SPEC §11 routes.
    const before = await api(base, 'GET', `/users/${frank.id}/sip-credentials`, { token })
    expect(before.status, 'GET /users/:id/sip-credentials must exist').toBe(200)
    const recorded = await recordedPage(browser, base)
    const { page } = recorded
    await page.goto(`${base}/console`)
    await signIn(page, 'frank', USER_PASSWORD)

    const panel = page.locator('#sip-credentials')
    await panel.locator('input[name=sip-label]').fill('desk')
    await panel.getByRole('button', { name: 'Create credential' }).click()
    const shown = page.locator('[data-testid=new-sip-secret]')
    await shown.waitFor()
    const secret = (await shown.textContent()) ?? ''
    expect(secret).toMatch(/^[A-Za-z0-9]{24,}$/)
    await expect.poll(() => panel.locator('tr[data-sip=frank-desk]').count()).toBe(1)
    await screenshot(page, 'sip')

    const listed = await api(base, 'GET', `/users/${frank.id}/sip-credentials`, { token })
    expect(listed.status).toBe(200)
    expect(JSON.stringify(listed.body)).not.toContain(secret)

    // Coming back: the secret is gone from the page, the credential stays.
    await page.evaluate(`window.location.hash = '#/account/again'`)
    await expect.poll(() => panel.locator('tr[data-sip=frank-desk]').count()).toBe(1)
    expect(await page.content()).not.toContain(secret)
    await panel.locator('tr[data-sip=frank-desk]').getByRole('button', { name: 'Revoke' }).click()
    await expect.poll(() => panel.locator('tr[data-sip]').count()).toBe(0)

    // An admin manages frank's credentials from his page.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await signIn(page, 'admin', ADMIN_PASSWORD)
    await page.evaluate(`window.location.hash = '#/users/${frank.id}'`)
    await panel.locator('input[name=sip-label]').fill('softphone')
    await panel.locator('input[name=sip-username]').fill('frank.soft')
    await panel.getByRole('button', { name: 'Create credential' }).click()
    await page.locator('[data-testid=new-sip-secret]').waitFor()
    await expect.poll(() => panel.locator('tr[data-sip="frank.soft"]').count()).toBe(1)
    await panel.locator('tr[data-sip="frank.soft"]').getByRole('button', { name: 'Revoke' }).click()
    await expect.poll(() => panel.locator('tr[data-sip]').count()).toBe(0)
    expectCleanPage(recorded, base)
  })
})
