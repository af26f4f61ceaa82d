import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import jwt from 'jsonwebtoken'
import jwksRsa from 'jwks-rsa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import { init } from '../../src/core.js'
import { type RunningServer, startServer } from '../../src/http/serve.js'
import { createManualClock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { GOOD_PASSWORD, testConfig } from '../helpers/create-test-core.js'

// Tokens are checked by validators nobody on the team wrote, fetching keys from the running
// server: jose's remote key set, and jsonwebtoken + jwks-rsa (what most Node services use).
// The core runs on a manual clock that starts at the real time, so the rotation's publish lead
// can pass without sleeping; validators get a tolerance covering the jump.
const CLOCK_JUMP_SECONDS = 311
const TOLERANCE = CLOCK_JUMP_SECONDS + 60

describe('independent validators against the running server (RS256)', () => {
  const clock = createManualClock(new Date())
  let core: UsersCore
  let server: RunningServer

  beforeAll(async () => {
    const config = parseConfig(
      testConfig({ api_bind_address: '127.0.0.1:0', jwt: { algorithm: 'RS256' } }),
    )
    const logger = createLogger('silent')
    core = await init(config, { logger, clock })
    await core.createUser({ username: 'root', password: GOOD_PASSWORD, roles: ['admin'] })
    server = await startServer({ core, config, logger })
  }, 30_000)
  afterAll(() => server?.close())

  const login = async () => {
    const res = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'root', password: GOOD_PASSWORD }),
    })
    return ((await res.json()) as { access_token: string }).access_token
  }

  const withJose = async (token: string) => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`))
    const { payload } = await jwtVerify(token, jwks, {
      issuer: 'https://users.rvoip.local',
      audience: 'rvoip-sip',
      algorithms: ['RS256'],
      clockTolerance: TOLERANCE,
    })
    return payload
  }

  const withJsonwebtoken = async (token: string) => {
    const client = jwksRsa({ jwksUri: `${server.url}/auth/jwks.json`, cache: false })
    const kid = decodeProtectedHeader(token).kid
    const key = await client.getSigningKey(kid)
    return jwt.verify(token, key.getPublicKey(), {
      issuer: 'https://users.rvoip.local',
      audience: 'rvoip-api',
      algorithms: ['RS256'],
      clockTolerance: TOLERANCE,
    }) as jwt.JwtPayload
  }

  it('both accept a fresh token and reject a tampered one', async () => {
    const token = await login()
    expect((await withJose(token)).username).toBe('root')
    expect((await withJsonwebtoken(token)).scope).toContain('sip.register')
    const [h, p, s] = token.split('.')
    const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString())
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin', 'x'] })).toString('base64url')}.${s}`
    await expect(withJose(forged)).rejects.toThrow()
    await expect(withJsonwebtoken(forged)).rejects.toThrow()
  })

  it('keep accepting old and new tokens across a key rotation', async () => {
    const before = await login()
    const oldKid = decodeProtectedHeader(before).kid
    const rotated = await fetch(`${server.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${before}` },
    })
    expect(rotated.status).toBe(200)
    clock.advance(CLOCK_JUMP_SECONDS * 1000)
    const after = await login()
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid)
    for (const token of [before, after]) {
      expect((await withJose(token)).username).toBe('root')
      expect((await withJsonwebtoken(token)).username).toBe('root')
    }
  })
})
