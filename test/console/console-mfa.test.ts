import * as OTPAuth from 'otpauth'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ADMIN_PASSWORD,
  api,
  browserTest,
  type ConsoleServer,
  expectCleanPage,
  freePort,
  launch,
  login,
  recordedPage,
  screenshot,
  signIn,
  startConsoleServer,
  USER_PASSWORD,
} from './browser.js'

// SPEC §12 through the console (§13), in Chromium against a real server: a user enrols TOTP from
// the QR code the page draws, signs in again with a code and with a recovery code, enrols a
// passkey in the CDP virtual authenticator and signs in with it; an admin removes a factor.
// WebAuthn needs the page on http://localhost, so the server's public_url names localhost.

const test = browserTest(
  'TOTP, recovery codes and a passkey: enrol in the console, sign in with each',
)

/** A TOTP of SPEC §12 (SHA-1, 6 digits, 30 s) over `secret`, one step ahead of now. */
function nextCode(secret: string, stepsAhead: number): string {
  const totp = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    digits: 6,
    period: 30,
  })
  return totp.generate({ timestamp: Date.now() + stepsAhead * 30_000 })
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.locator('input[name=username]').waitFor()
}

/** The password step, ending at the second-factor form. */
async function passwordStep(page: Page, username: string, password: string): Promise<void> {
  await page.locator('input[name=username]').fill(username)
  await page.locator('input[name=password]').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Second factor' }).waitFor()
}

async function signedInAs(page: Page, username: string): Promise<void> {
  await expect
    .poll(() => page.locator('[data-testid=signed-in-as]').textContent(), { timeout: 10_000 })
    .toBe(username)
}

describe('MFA in the console', () => {
  let server: ConsoleServer
  let browser: Browser
  let origin: string

  beforeAll(async () => {
    if (!test.run) return
    const port = await freePort()
    origin = `http://localhost:${port}`
    server = await startConsoleServer(
      { public_url: origin, webauthn: { rp_id: 'localhost', origins: [origin] } },
      port,
    )
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  ;(test.run ? it : it.skip)(test.title, { timeout: 90_000 }, async () => {
    const erin = await server.core.createUser({ username: 'erin', password: USER_PASSWORD })
    const recorded = await recordedPage(browser, origin)
    const { page } = recorded
    await page.goto(`${origin}/console`)
    await signIn(page, 'erin', USER_PASSWORD)

    // TOTP: a QR code drawn in the page (an SVG path, no image fetched), confirmed with a code.
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
    const qr = page.locator('[data-testid=totp-qr]')
    await qr.waitFor()
    expect(await qr.evaluate((el) => el.tagName.toLowerCase())).toBe('svg')
    expect((await qr.locator('path').getAttribute('d'))?.length).toBeGreaterThan(500)
    const secret = (await page.locator('[data-testid=totp-secret]').textContent()) ?? ''
    expect(secret).toMatch(/^[A-Z2-7]{16,}=*$/)
    await screenshot(page, 'totp-enrol')
    await page.locator('input[name=totp-code]').fill(nextCode(secret, 0))
    await page.getByRole('button', { name: 'Confirm' }).click()
    const codes = page.locator('[data-testid=recovery-codes] code')
    await expect.poll(() => codes.count()).toBe(10)
    const recoveryCodes = await codes.allTextContents()
    await expect.poll(() => page.locator('[data-factor=totp]').count()).toBe(1)
    await screenshot(page, 'mfa')

    // The password alone is no longer enough; the next TOTP step signs in.
    const refused = await api(origin, 'POST', '/auth/login', {
      body: { username: 'erin', password: USER_PASSWORD },
    })
    expect(refused.status).toBe(401)
    expect((refused.body as { error: { code: string } }).error.code).toBe('MFA_REQUIRED')
    await signOut(page)
    await passwordStep(page, 'erin', USER_PASSWORD)
    await page.locator('input[name=mfa-code]').fill('000000')
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.locator('.error[data-code=INVALID_CREDENTIALS]').waitFor()
    await page.locator('input[name=mfa-code]').fill(nextCode(secret, 1))
    await page.getByRole('button', { name: 'Verify' }).click()
    await signedInAs(page, 'erin')

    // A recovery code works once.
    await signOut(page)
    await passwordStep(page, 'erin', USER_PASSWORD)
    await page.getByLabel('Recovery code', { exact: true }).check()
    await page.locator('input[name=mfa-code]').fill(recoveryCodes[0] ?? '')
    await page.getByRole('button', { name: 'Verify' }).click()
    await signedInAs(page, 'erin')

    // A passkey in Chromium's virtual authenticator.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    })
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    await expect.poll(() => page.locator('[data-factor=webauthn]').count()).toBe(1)
    await signOut(page)
    await passwordStep(page, 'erin', USER_PASSWORD)
    await page.getByLabel('Passkey', { exact: true }).check()
    await page.getByRole('button', { name: 'Use a passkey' }).click()
    await signedInAs(page, 'erin')
    await signOut(page)

    // An admin sees the factors and removes the TOTP one; the admin never sees a secret.
    await signIn(page, 'admin', ADMIN_PASSWORD)
    await page.evaluate(`window.location.hash = '#/users/${erin.id}'`)
    await expect.poll(() => page.locator('#mfa [data-factor]').count()).toBe(2)
    expect(await page.locator('[data-testid=totp-secret]').count()).toBe(0)
    await page.locator('#mfa [data-factor=totp]').getByRole('button', { name: 'Remove' }).click()
    await expect.poll(() => page.locator('#mfa [data-factor]').count()).toBe(1)
    const adminToken = (await login(origin, 'admin', ADMIN_PASSWORD)).access_token
    const audit = await api(origin, 'GET', `/audit-events?user_id=${erin.id}&type=mfa.removed`, {
      token: adminToken,
    })
    expect((audit.body as unknown[]).length).toBe(1)
    expectCleanPage(recorded, origin)
  })
})
