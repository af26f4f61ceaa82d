import { createHmac, createPublicKey, sign } from 'node:crypto'
import { createLocalJWKSet, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/schema.js'
import type { SigningAlgorithm } from '../domain/records.js'
import { createManualClock } from '../lib/clock.js'
import {
  type AccessTokenClaims,
  buildAccessTokenClaims,
  CLOCK_TOLERANCE_SECONDS,
  createAccessTokenVerifier,
  peekKid,
} from './access-token.js'
import { signCompactJws } from './jws.js'
import { type GeneratedSigningKey, generateSigningKey } from './signing-key.js'

const jwt = parseConfig({}).jwt
const START = new Date('2026-03-01T12:00:00Z')
const USER = { id: '7b0f3c9e-8d1a-4f5e-9c2b-1a2b3c4d5e6f', username: 'alice', email: 'a@x.io' }
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const decode = (part: string | undefined) =>
  JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>

function claims(overrides: Partial<AccessTokenClaims> = {}, now = START): AccessTokenClaims {
  return {
    ...buildAccessTokenClaims({
      issuer: jwt.issuer,
      audience: jwt.audience,
      user: USER,
      roles: ['user'],
      scope: 'openid profile email sip.register',
      sessionId: 'b2a7c1d0-0000-4000-8000-000000000001',
      jti: 'c0ffee00-0000-4000-8000-000000000002',
      now,
      ttlSeconds: jwt.access_ttl_seconds,
    }),
    ...overrides,
  }
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The same bytes with an unused bit of the last character set: decoders that ignore it agree. */
function nonCanonical(segment: string): string {
  expect(segment.length % 4).not.toBe(0)
  const last = BASE64URL.indexOf(segment.at(-1) as string)
  return `${segment.slice(0, -1)}${BASE64URL[last ^ 1]}`
}

/** Builds a token by hand: any header, any payload, signed by `key` in its algorithm's way. */
function forge(header: Record<string, unknown>, payload: unknown, key: GeneratedSigningKey) {
  const input = `${b64(header)}.${b64(payload)}`
  const data = Buffer.from(input)
  const sig =
    key.algorithm === 'EdDSA'
      ? sign(null, data, key.privateKey)
      : key.algorithm === 'ES256'
        ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', data, key.privateKey)
  return `${input}.${sig.toString('base64url')}`
}

const keys = {} as Record<SigningAlgorithm, GeneratedSigningKey>
beforeAll(async () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) keys[alg] = await generateSigningKey(alg)
})

function verifierFor(clock = createManualClock(START), ...ks: GeneratedSigningKey[]) {
  const set = ks.length > 0 ? ks : Object.values(keys)
  return createAccessTokenVerifier({
    keys: set.map((k) => k.publicJwk),
    issuer: jwt.issuer,
    audience: jwt.audience,
    clock,
  })
}

describe('buildAccessTokenClaims', () => {
  it('has exactly the SPEC §4.1 claims, aud an array, exp = iat + ttl, nbf = iat', () => {
    const c = claims()
    const iat = START.getTime() / 1000
    expect(c).toStrictEqual({
      iss: 'https://users.rvoip.local',
      sub: USER.id,
      aud: ['rvoip-api', 'rvoip-sip'],
      exp: iat + 900,
      iat,
      nbf: iat,
      jti: 'c0ffee00-0000-4000-8000-000000000002',
      username: 'alice',
      email: 'a@x.io',
      roles: ['user'],
      scope: 'openid profile email sip.register',
      sid: 'b2a7c1d0-0000-4000-8000-000000000001',
    })
  })

  it('omits sid for API-key tokens, names the key and its permissions, and keeps a null email', () => {
    const c = buildAccessTokenClaims({
      apiKeyId: 'k-1',
      permissions: ['read', 'admin'],
      issuer: 'i',
      audience: ['one'],
      user: { ...USER, email: null },
      roles: [],
      scope: 'openid',
      jti: 'j',
      now: new Date(START.getTime() + 999),
      ttlSeconds: 60,
    })
    expect(c).not.toHaveProperty('sid')
    expect(c.api_key_id).toBe('k-1')
    expect(c.permissions).toEqual(['read', 'admin'])
    expect(c.email).toBeNull()
    expect(c.aud).toEqual(['one'])
    expect(c.iat).toBe(START.getTime() / 1000)
  })
})

describe.each(['RS256', 'ES256', 'EdDSA'] as const)('%s tokens', (alg) => {
  it('have the header exactly {alg, typ: JWT, kid} and verify with our verifier', async () => {
    const key = keys[alg]
    const token = await signCompactJws(claims(), key)
    const [header] = token.split('.')
    expect(decode(header)).toStrictEqual({ alg, typ: 'JWT', kid: key.kid })
    expect(peekKid(token)).toBe(key.kid)
    expect(await verifierFor().verify(token)).toStrictEqual(claims())
  })

  it('are accepted by plain jose with the published JWKS', async () => {
    const token = await signCompactJws(claims(), keys[alg])
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createLocalJWKSet({ keys: [keys[alg].publicJwk] }),
      { issuer: jwt.issuer, audience: 'rvoip-sip', currentDate: START },
    )
    expect(payload.sub).toBe(USER.id)
    expect(protectedHeader.kid).toBe(keys[alg].kid)
  })

  const jsonwebtokenVerify = (token: string) => {
    const pem = createPublicKey({ key: keys[alg].publicJwk, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    })
    return jsonwebtoken.verify(token, pem, {
      algorithms: [alg as 'RS256' | 'ES256'],
      issuer: jwt.issuer,
      audience: 'rvoip-api',
      clockTimestamp: START.getTime() / 1000,
    })
  }

  if (alg === 'EdDSA') {
    // What the README tells EdDSA deployments: validate with jose or PyJWT, not jsonwebtoken.
    it('are refused by jsonwebtoken 9, which has no EdDSA', async () => {
      const token = await signCompactJws(claims(), keys[alg])
      expect(() => jsonwebtokenVerify(token)).toThrow(/Unknown key type "ed25519"/)
    })
  } else {
    it('are accepted by jsonwebtoken', async () => {
      const token = await signCompactJws(claims(), keys[alg])
      expect(jsonwebtokenVerify(token)).toMatchObject({ sub: USER.id, username: 'alice' })
    })
  }
})

describe('verification rejects', () => {
  const rejects = async (token: string, clock = createManualClock(START)) => {
    const error = await verifierFor(clock)
      .verify(token)
      .then(() => undefined)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'UNAUTHORIZED' })
    expect((error as Error).message).toMatch(/^The access token (is invalid|has expired)\.$/)
  }
  const es = () => keys.ES256
  const header = () => ({ alg: 'ES256', typ: 'JWT', kid: es().kid })

  it('alg none', async () => {
    await rejects(`${b64({ alg: 'none', typ: 'JWT', kid: es().kid })}.${b64(claims())}.`)
    await rejects(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`)
  })

  it('HS256 signed with the public key (PEM or JWK text) as the HMAC secret', async () => {
    const rsa = keys.RS256
    const pem = createPublicKey({ key: rsa.publicJwk, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    })
    for (const secret of [pem, JSON.stringify(rsa.publicJwk)]) {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${b64(claims())}`
      const mac = createHmac('sha256', secret).update(input).digest('base64url')
      await rejects(`${input}.${mac}`)
    }
  })

  it('a foreign issuer, even when signed by our key', async () => {
    await rejects(forge(header(), claims({ iss: 'https://evil.example' }), es()))
  })

  it('a wrong audience, and a missing one', async () => {
    await rejects(forge(header(), claims({ aud: ['someone-else'] }), es()))
    const { aud: _aud, ...noAud } = claims()
    await rejects(forge(header(), noAud, es()))
  })

  it('an expired token, beyond the clock tolerance only', async () => {
    const token = forge(header(), claims(), es())
    const clock = createManualClock(new Date(START.getTime() + 900_000))
    clock.advance((CLOCK_TOLERANCE_SECONDS - 1) * 1000)
    await expect(verifierFor(clock).verify(token)).resolves.toBeDefined()
    clock.advance(2000)
    await rejects(token, clock)
    await expect(verifierFor(clock).verify(token)).rejects.toThrow('has expired')
  })

  it('a token not yet valid beyond the tolerance', async () => {
    const future = claims({}, new Date(START.getTime() + 60_000))
    await rejects(forge(header(), future, es()))
    const soon = claims({}, new Date(START.getTime() + (CLOCK_TOLERANCE_SECONDS - 1) * 1000))
    await expect(verifierFor().verify(forge(header(), soon, es()))).resolves.toBeDefined()
  })

  it('a tampered payload', async () => {
    const [h, , s] = (await signCompactJws(claims(), es())).split('.')
    await rejects(`${h}.${b64(claims({ roles: ['admin'], scope: 'admin' }))}.${s}`)
  })

  it('an unknown kid, a missing kid, and a kid of another algorithm', async () => {
    const stranger = await generateSigningKey('ES256')
    await rejects(await signCompactJws(claims(), stranger))
    await rejects(forge({ alg: 'ES256', typ: 'JWT' }, claims(), es()))
    // RS256 header naming the ES256 key: the JWK's alg does not match
    await rejects(forge({ alg: 'RS256', typ: 'JWT', kid: es().kid }, claims(), keys.RS256))
    // a valid signature by another key under our kid
    await rejects(forge(header(), claims(), stranger))
  })

  it('a missing typ or a typ other than JWT', async () => {
    await rejects(forge({ alg: 'ES256', kid: es().kid }, claims(), es()))
    await rejects(forge({ ...header(), typ: 'at+jwt' }, claims(), es()))
    await rejects(forge({ ...header(), typ: 'JOSE' }, claims(), es()))
  })

  it('a typ that names JWT as a media type, and an unknown crit extension', async () => {
    await rejects(forge({ ...header(), typ: 'jwt' }, claims(), es()))
    await rejects(forge({ ...header(), typ: 'application/jwt' }, claims(), es()))
    await rejects(forge({ ...header(), crit: ['exp'], exp: 1 }, claims(), es()))
  })

  it('a token this verifier accepted before, once the clock leaves its lifetime', async () => {
    const clock = createManualClock(START)
    const verifier = verifierFor(clock)
    const token = forge(header(), claims(), es())
    await expect(verifier.verify(token)).resolves.toBeDefined()
    clock.advance((jwt.access_ttl_seconds + CLOCK_TOLERANCE_SECONDS) * 1000)
    await expect(verifier.verify(token)).rejects.toThrow('has expired')
    clock.advance(-(jwt.access_ttl_seconds + CLOCK_TOLERANCE_SECONDS) * 1000)
    await expect(verifier.verify(token)).resolves.toBeDefined()
    clock.advance(-(CLOCK_TOLERANCE_SECONDS + 1) * 1000)
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('missing sub, jti, iat, exp or nbf', async () => {
    for (const name of ['sub', 'jti', 'iat', 'exp', 'nbf'] as const) {
      const c: Record<string, unknown> = { ...claims() }
      delete c[name]
      await rejects(forge(header(), c, es()))
    }
  })

  it('private claims of the wrong shape', async () => {
    await rejects(forge(header(), { ...claims(), roles: 'admin' }, es()))
    await rejects(forge(header(), { ...claims(), email: 42 }, es()))
    await rejects(forge(header(), { ...claims(), username: undefined }, es()))
    await rejects(forge(header(), { ...claims(), permissions: 'read' }, es()))
    await rejects(forge(header(), { ...claims(), permissions: ['read', 'root'] }, es()))
  })

  it('a signature in a non-canonical base64url encoding of the same bytes (RFC 4648 §3.5)', async () => {
    for (const key of Object.values(keys)) {
      const token = await signCompactJws(claims(), key)
      const [h, p, sig] = token.split('.') as [string, string, string]
      const loose = nonCanonical(sig)
      expect(Buffer.from(loose, 'base64url')).toEqual(Buffer.from(sig, 'base64url'))
      await expect(verifierFor().verify(token)).resolves.toBeDefined()
      await rejects(`${h}.${p}.${loose}`)
    }
  })

  it('a header or payload in a non-canonical encoding, even when that string is signed', async () => {
    // Padded with JSON whitespace until the segment has unused bits, then signed as sent.
    const segment = (value: object) => {
      let text = JSON.stringify(value)
      while (Buffer.from(text).toString('base64url').length % 4 === 0) text += ' '
      return Buffer.from(text).toString('base64url')
    }
    const signed = (h: string, p: string) =>
      `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), { key: es().privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
    const [h, p] = [segment(header()), segment(claims())]
    await expect(verifierFor().verify(signed(h, p))).resolves.toBeDefined()
    await rejects(signed(nonCanonical(h), p))
    await rejects(signed(h, nonCanonical(p)))
  })

  it('junk', async () => {
    for (const junk of ['', 'a.b.c', 'not a token', '...', `${'x'.repeat(9000)}.a.b`]) {
      await rejects(junk)
      expect(peekKid(junk)).toBeUndefined()
    }
  })
})
