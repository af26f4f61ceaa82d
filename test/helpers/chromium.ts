import { existsSync } from 'node:fs'

/** Debian's Chromium, which `.ci/run` installs. */
export const CHROMIUM = '/usr/bin/chromium'

/** Headless, sandbox-less (root in CI), and quiet: no network of its own, no first-run pages. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/**
 * How a test that needs the browser runs: when Chromium is installed, and under CI=true also when
 * it is not (then failing, saying so in its title); elsewhere it is skipped with the reason.
 */
export function browserTest(title: string): { skip: boolean; title: string; hasChromium: boolean } {
  const hasChromium = existsSync(CHROMIUM)
  const inCi = process.env.CI === 'true'
  return {
    skip: !hasChromium && !inCi,
    title: hasChromium
      ? title
      : inCi
        ? `${title} — FAILS: ${CHROMIUM} is not installed and CI=true requires it`
        : `${title} — SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium)`,
    hasChromium,
  }
}
