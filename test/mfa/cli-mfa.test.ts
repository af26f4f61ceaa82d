import { afterAll, describe, expect, it } from 'vitest'
import { init } from '../../src/core.js'
import { createLogger } from '../../src/lib/logger.js'
import { createSandbox, GOOD_PASSWORD, runCli } from '../cli/cli-harness.js'
import { testConfig } from '../helpers/create-test-core.js'
import { totpAt } from './rfc6238.js'

const box = createSandbox()
const cli = (args: string[]) => runCli(args, { env: box.env, cwd: box.dir })
afterAll(() => box.cleanup())

describe('users-core user mfa', { timeout: 120_000 }, () => {
  it("lists a user's factors without secrets and removes them", async () => {
    expect((await cli(['user', 'create', 'erin', '--password', GOOD_PASSWORD])).code).toBe(0)
    // Enrolment is the user's own act: done through the library on the same database.
    const core = await init(
      testConfig({ database_url: box.env.USERS_CORE_DATABASE_URL as string }),
      {
        logger: createLogger('silent'),
      },
    )
    let secret: string
    try {
      const erin = await core.users.getByUsername('erin')
      const enrolment = await core.mfa.enrollTotp(erin?.id as string)
      secret = enrolment.secret
      await core.mfa.confirmTotp(erin?.id as string, totpAt(secret, new Date()))
    } finally {
      await core.close()
    }

    const listed = await cli(['user', 'mfa', 'erin', '--json'])
    expect(listed).toMatchObject({ code: 0, stderr: '' })
    const status = JSON.parse(listed.stdout)
    expect(status).toMatchObject({ enabled: true, recovery_codes_remaining: 10 })
    expect(status.factors).toHaveLength(1)
    expect(listed.stdout).not.toContain(secret)
    const table = await cli(['user', 'mfa', 'erin'])
    expect(table.stdout).toContain('totp')
    expect(table.stdout).toContain('MFA on for erin; 10 recovery codes left')

    expect((await cli(['user', 'mfa', 'erin', '--remove', 'nope'])).code).toBe(1)
    expect((await cli(['user', 'mfa', 'erin', '--remove', 'x', '--remove-all'])).code).toBe(2)
    const removed = await cli(['user', 'mfa', 'erin', '--remove', status.factors[0].id])
    expect(removed).toMatchObject({ code: 0, stderr: '' })
    expect(removed.stdout).toContain('MFA off for erin')
    const audit = await cli(['audit', 'list', '--type', 'mfa.removed', '--json'])
    expect(JSON.parse(audit.stdout)).toHaveLength(1)
  })
})
