import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeHa1 } from '../../src/sip/digest.js'
import { createSandbox, GOOD_PASSWORD, runCli } from '../cli/cli-harness.js'

const box = createSandbox()
const cli = (args: string[]) => runCli(args, { env: box.env, cwd: box.dir })

beforeAll(async () => {
  expect((await cli(['user', 'create', 'alice', '--password', GOOD_PASSWORD])).code).toBe(0)
}, 60_000)
afterAll(() => box.cleanup())

describe('users-core sip', { timeout: 120_000 }, () => {
  it('create prints the secret once; list shows no secret; revoke; bad input exits 1', async () => {
    const created = await cli(['sip', 'create', 'alice', 'desk', '--json'])
    expect(created.stderr).toBe('')
    expect(created.code).toBe(0)
    const { credential, secret } = JSON.parse(created.stdout) as {
      credential: { id: string; sip_username: string; revoked: boolean }
      secret: string
    }
    expect(credential).toMatchObject({ sip_username: 'alice-desk', revoked: false })
    expect(secret).toMatch(/^[0-9A-Za-z]{24,}$/)

    const table = await cli(['sip', 'list', 'alice'])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain('alice-desk')
    expect(table.stdout).not.toContain(secret)
    expect(table.stdout).not.toContain(computeHa1('MD5', 'alice-desk', 'rvoip', secret))

    const revoked = await cli(['sip', 'revoke', credential.id])
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain('revoked SIP credential alice-desk')
    const listed = JSON.parse((await cli(['sip', 'list', 'alice', '--json'])).stdout) as {
      revoked: boolean
    }[]
    expect(listed.map((c) => c.revoked)).toEqual([true])

    const again = await cli(['sip', 'revoke', credential.id])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/no such SIP credential/)
    const bad = await cli(['sip', 'create', 'alice', 'x', '--sip-username', 'bad name'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/sip_username/)
    expect((await cli(['sip', 'create', 'nobody', 'x'])).code).toBe(1)
  })
})
