import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSOLE_CSP } from '../../src/http/routes/console.js'
import {
  ADMIN_PASSWORD,
  api,
  browserTest,
  type ConsoleServer,
  createShiftedClock,
  expectCleanPage,
  launch,
  login,
  recordedPage,
  screenshot,
  signIn,
  startConsoleServer,
  USER_PASSWORD,
} from './browser.js'

// SPEC §13 in Debian's Chromium against a real server: an admin manages a user end to end and
// finds it in the audit trail; a user changes their password and ends their other sessions. Every
// request the page makes stays on the server's origin, under the console's CSP.

const admin = browserTest('an admin creates a user, gives a role and a key, deactivates, audits')
const user = browserTest('a user changes their password and ends other sessions; 401 signs out')

/** The view the console shows (its URL fragment). */
function hashOf(page: Page): Promise<string> {
  return page.evaluate('window.location.hash')
}

/** Opens a view, as following a link would. */
async function setHash(page: Page, hash: string): Promise<void> {
  await page.evaluate(`window.location.hash = ${JSON.stringify(hash)}`)
}

/** The rows of a table whose `<tr>` carry `attribute`. */
function rows(page: Page, attribute: string) {
  return page.locator(`tr[${attribute}]`)
}

describe('the console in a browser', () => {
  const clock = createShiftedClock()
  let server: ConsoleServer
  let browser: Browser

  beforeAll(async () => {
    if (!admin.run) return
    server = await startConsoleServer({}, 0, clock)
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  ;(admin.run ? it : it.skip)(admin.title, { timeout: 90_000 }, async () => {
    const base = server.url
    // Enough users for two pages of 20: paging follows the Link header.
    for (let i = 0; i < 22; i++) {
      await server.core.createUser({
        username: `bulk${String(i).padStart(2, '0')}`,
        password: USER_PASSWORD,
      })
    }
    const recorded = await recordedPage(browser, base)
    const { page } = recorded

    const response = await page.goto(`${base}/console`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['content-security-policy']).toBe(CONSOLE_CSP)
    await page.locator('input[name=username]').waitFor()
    await screenshot(page, 'sign-in')

    // A wrong password: the envelope's code and request id are shown.
    await page.locator('input[name=username]').fill('admin')
    await page.locator('input[name=password]').fill('not-the-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    const refused = page.locator('.error[data-code=INVALID_CREDENTIALS]')
    await refused.waitFor()
    expect(await refused.locator('.request-id code').textContent()).toMatch(/^[\w-]{8,}$/)

    await signIn(page, 'admin', ADMIN_PASSWORD)
    await expect.poll(() => hashOf(page)).toBe('#/users')
    await expect
      .poll(() => page.locator('[data-testid=page-info]').textContent())
      .toBe('1–20 of 23')
    await page.getByRole('button', { name: 'Next' }).click()
    await expect
      .poll(() => page.locator('[data-testid=page-info]').textContent())
      .toBe('21–23 of 23')
    await page.getByRole('button', { name: 'Previous' }).click()
    await expect
      .poll(() => page.locator('[data-testid=page-info]').textContent())
      .toBe('1–20 of 23')
    // Search narrows the list server-side.
    await page.locator('input[name=search]').fill('bulk1')
    await page.getByRole('button', { name: 'Find' }).click()
    await expect.poll(() => rows(page, 'data-user').count()).toBe(10)

    // Create a user: a weak password first shows the failed rules, then a good one works.
    await page.getByRole('button', { name: 'New user' }).click()
    await page.locator('input[name=new-username]').fill('carol')
    await page.locator('input[name=new-user-password]').fill('carol')
    await page.locator('input[name=new-email]').fill('carol@example.test')
    await page.getByRole('button', { name: 'Create user' }).click()
    const weak = page.locator('.error[data-code=WEAK_PASSWORD]')
    await weak.waitFor()
    const failed = await weak
      .locator('[data-rule]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-rule')))
    expect(failed).toEqual(expect.arrayContaining(['min_length', 'uppercase', 'numbers']))
    await page.locator('input[name=new-user-password]').fill(USER_PASSWORD)
    // A slow answer: the button and the bar at the top show progress until it comes.
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    await page.route(`${base}/users`, async (route) => {
      await held
      await route.fallback()
    })
    await page.getByRole('button', { name: 'Create user' }).click()
    await page.locator('button[aria-busy=true]', { hasText: 'Create user' }).waitFor()
    await page.locator('.progress.on[data-busy=true]').waitFor()
    release()
    await page.unroute(`${base}/users`)
    await expect.poll(() => page.locator('h1').textContent()).toMatch(/^carol/)
    const carolId = /#\/users\/(.+)$/.exec(await hashOf(page))?.[1]
    expect(carolId).toMatch(/^[0-9a-f-]{36}$/)

    // A role.
    await page.locator('input[name=roles]').fill('user, operator')
    await page.getByRole('button', { name: 'Save roles' }).click()
    const adminToken = (await login(base, 'admin', ADMIN_PASSWORD)).access_token
    await expect
      .poll(async () => {
        const res = await api(base, 'GET', `/users/${carolId}`, { token: adminToken })
        return (res.body as { roles: string[] }).roles
      })
      .toEqual(['user', 'operator'])

    // An API key, shown once.
    await page.locator('input[name=key-name]').fill('pbx')
    await page.locator('input[name=perm-write]').check()
    await page.getByRole('button', { name: 'Create key' }).click()
    const shown = page.locator('[data-testid=new-api-key]')
    await shown.waitFor()
    const key = (await shown.textContent()) ?? ''
    expect(key).toMatch(/^rvoip_ak_live_[A-Za-z0-9]{32,}$/)
    const viaKey = await api(base, 'GET', '/users/me', { apiKey: key })
    expect(viaKey.status).toBe(200)
    expect((viaKey.body as { username: string }).username).toBe('carol')
    await expect.poll(() => rows(page, 'data-key').count()).toBe(1)
    await screenshot(page, 'user-detail')

    // Edit the profile, reset the password.
    await page.locator('input[name=display-name]').fill('Carol Example')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await expect
      .poll(async () => {
        const res = await api(base, 'GET', `/users/${carolId}`, { token: adminToken })
        return (res.body as { display_name: string | null }).display_name
      })
      .toBe('Carol Example')
    const RESET_PASSWORD = 'Granite-Willow-42'
    await page.locator('#reset-password input[name=new-password]').fill(RESET_PASSWORD)
    await page.locator('#reset-password input[name=repeat-password]').fill(RESET_PASSWORD)
    await page.getByRole('button', { name: 'Reset password' }).click()
    await page.getByText('Password reset; every session of carol has ended.').waitFor()
    await login(base, 'carol', RESET_PASSWORD)

    // Deactivate.
    await page.getByRole('button', { name: 'Deactivate' }).click()
    await page.locator('h1 .badge.off').waitFor()
    expect((await api(base, 'GET', '/users/me', { apiKey: key })).status).toBe(401)

    // Leaving and coming back: the key is not shown again, only its prefix.
    await page.reload()
    await signIn(page, 'admin', ADMIN_PASSWORD)
    await expect.poll(() => rows(page, 'data-key').count()).toBe(1)
    expect(await page.content()).not.toContain(key)
    expect(await rows(page, 'data-key').first().textContent()).toContain(key.slice(14, 22))

    // The audit trail, filtered to carol.
    await page.getByRole('link', { name: 'Audit' }).click()
    await page.locator('input[name=user_id]').fill(carolId ?? '')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect
      .poll(async () =>
        (
          await rows(page, 'data-type').evaluateAll((els) =>
            els.map((el) => el.getAttribute('data-type')),
          )
        ).sort(),
      )
      .toEqual(
        expect.arrayContaining([
          'api_key.created',
          'user.created',
          'user.deactivated',
          'user.roles_changed',
        ]),
      )
    // Narrowed by type as well.
    await page.locator('input[name=type]').fill('api_key.created')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect.poll(() => rows(page, 'data-type').count()).toBe(1)
    await page.locator('input[name=type]').fill('')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect.poll(() => rows(page, 'data-type').count()).toBeGreaterThanOrEqual(4)
    await screenshot(page, 'audit')

    // Signing keys: list and rotate.
    await page.getByRole('link', { name: 'Signing keys' }).click()
    await expect.poll(() => rows(page, 'data-kid').count()).toBeGreaterThanOrEqual(1)
    const before = await rows(page, 'data-kid').evaluateAll((els) =>
      els.map((el) => el.getAttribute('data-kid')),
    )
    await page.getByRole('button', { name: 'Rotate keys' }).click()
    await page.getByRole('button', { name: 'Yes, rotate' }).click()
    await expect
      .poll(async () =>
        (
          await rows(page, 'data-kid').evaluateAll((els) =>
            els.map((el) => el.getAttribute('data-kid')),
          )
        ).some((kid) => !before.includes(kid)),
      )
      .toBe(true)
    await screenshot(page, 'signing-keys')

    // The last admin: the rule is shown, and the server's 409 with it.
    const me = await api(base, 'GET', '/users/me', { token: adminToken })
    await setHash(page, `#/users/${(me.body as { id: string }).id}`)
    await page.getByText('The last active admin').waitFor()
    await page.getByRole('button', { name: 'Delete user' }).click()
    await page.getByRole('button', { name: 'Yes, delete' }).click()
    await page.locator('#delete .error[data-code=CONFLICT]').waitFor()

    // Deleting another user works, and takes them off the list.
    await setHash(page, `#/users/${carolId}`)
    await page.getByRole('button', { name: 'Delete user' }).click()
    await page.getByRole('button', { name: 'Yes, delete' }).click()
    await expect.poll(() => hashOf(page)).toBe('#/users')
    expect((await api(base, 'GET', `/users/${carolId}`, { token: adminToken })).status).toBe(404)

    await page.getByRole('link', { name: 'Users', exact: true }).click()
    await page.locator('input[name=search]').fill('')
    await page.getByRole('button', { name: 'Find' }).click()
    await expect.poll(() => rows(page, 'data-user').count()).toBe(20)
    await screenshot(page, 'users')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.locator('input[name=username]').waitFor()
    expectCleanPage(recorded, base)
  })

  ;(user.run ? it : it.skip)(user.title, { timeout: 90_000 }, async () => {
    const base = server.url
    const dave = await server.core.createUser({ username: 'dave', password: USER_PASSWORD })
    const other = await login(base, 'dave', USER_PASSWORD, 'dave-phone/2.0')

    const recorded = await recordedPage(browser, base)
    const { page } = recorded
    const authorizations: string[] = []
    page.on('request', (request) => {
      const header = request.headers().authorization
      if (header) authorizations.push(header)
    })
    await page.clock.install()
    await page.goto(`${base}/console`)
    // By keyboard alone: the form is the first thing Tab reaches, Enter submits it.
    await page.keyboard.press('Tab')
    await page.keyboard.type('dave')
    await page.keyboard.press('Tab')
    await page.keyboard.type(USER_PASSWORD)
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('[data-testid=signed-in-as]').textContent()).toBe('dave')
    await expect.poll(() => hashOf(page)).toBe('#/account')
    // Not an admin: no admin views.
    expect(await page.getByRole('link', { name: 'Users', exact: true }).count()).toBe(0)

    // Tokens live in memory only.
    const stored = await page.evaluate(
      '[localStorage.length, sessionStorage.length, document.cookie]',
    )
    expect(stored).toEqual([0, 0, ''])

    // A weak new password: the failed rules, inline, on a phone-width screen.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.locator('input[name=old-password]').fill(USER_PASSWORD)
    await page.locator('input[name=new-password]').fill('dave1')
    await page.locator('input[name=repeat-password]').fill('dave1')
    await page.getByRole('button', { name: 'Change password' }).click()
    const weak = page.locator('#password .error[data-code=WEAK_PASSWORD]')
    await weak.waitFor()
    const failed = await weak
      .locator('[data-rule]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-rule')))
    expect(failed).toEqual(expect.arrayContaining(['min_length', 'uppercase', 'contains_username']))
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390)
    await weak.scrollIntoViewIfNeeded()
    await screenshot(page, 'account-phone')
    await page.setViewportSize({ width: 1280, height: 900 })

    // Sessions: this one and the phone; end the phone's.
    await expect.poll(() => rows(page, 'data-session').count()).toBe(2)
    await page.locator('#sessions').getByRole('button', { name: 'End session' }).click()
    await expect.poll(() => rows(page, 'data-session').count()).toBe(1)
    expect(
      (await api(base, 'POST', '/auth/refresh', { body: { refresh_token: other.refresh_token } }))
        .status,
    ).toBe(401)
    await screenshot(page, 'account')

    // End all others: two more devices, one click.
    await login(base, 'dave', USER_PASSWORD, 'dave-tablet/1.0')
    await login(base, 'dave', USER_PASSWORD, 'dave-laptop/1.0')
    await page.getByRole('link', { name: 'My account' }).click()
    await setHash(page, '#/account/again')
    await expect.poll(() => rows(page, 'data-session').count()).toBe(3)
    await page.getByRole('button', { name: 'End all other sessions' }).click()
    await expect.poll(() => rows(page, 'data-session').count()).toBe(1)

    // The access token is refreshed before it expires, and the new one is used.
    const firstToken = authorizations.at(-1)
    const refreshes = () => recorded.requests.filter((u) => u.endsWith('/auth/refresh')).length
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/auth/refresh'))
    await page.clock.fastForward('15:00')
    expect((await refreshed).status()).toBe(200)
    expect(refreshes()).toBe(1)
    let visit = 0
    await expect
      .poll(async () => {
        const listed = page.waitForResponse((r) => r.url().endsWith('/sessions'))
        await setHash(page, `#/account/${visit++}`)
        await listed
        return authorizations.at(-1) !== firstToken
      })
      .toBe(true)

    // The server sees the access token expire: the 401 is cured by one refresh and a retry.
    clock.advance(16 * 60_000)
    const expired = page.waitForResponse((r) => r.url().endsWith('/sessions') && r.status() === 401)
    const cured = page.waitForResponse((r) => r.url().endsWith('/auth/refresh'))
    const retried = page.waitForResponse((r) => r.url().endsWith('/sessions') && r.status() === 200)
    await setHash(page, '#/account')
    await expired
    expect((await cured).status()).toBe(200)
    await retried
    expect(refreshes()).toBe(2)
    await expect.poll(() => rows(page, 'data-session').count()).toBe(1)
    expect(await page.locator('[data-testid=signed-in-as]').textContent()).toBe('dave')

    // A good new password: every session ends, the console asks to sign in again.
    const NEW_PASSWORD = 'Harbor-Lantern-58'
    await page.locator('input[name=old-password]').fill(USER_PASSWORD)
    await page.locator('input[name=new-password]').fill(NEW_PASSWORD)
    await page.locator('input[name=repeat-password]').fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Your password was changed').waitFor()
    await signIn(page, 'dave', NEW_PASSWORD)

    // Revoked elsewhere: the next call's 401 survives one refresh attempt, then signs out.
    const elsewhere = await login(base, 'dave', NEW_PASSWORD)
    await api(base, 'POST', '/auth/logout', {
      token: elsewhere.access_token,
      body: { all_sessions: true },
    })
    await setHash(page, '#/account/reload')
    await page.getByText('You are signed out.').waitFor()
    expect(await page.locator('[data-testid=signed-in-as]').count()).toBe(0)
    expect(dave.username).toBe('dave')
    expectCleanPage(recorded, base)
  })
})
