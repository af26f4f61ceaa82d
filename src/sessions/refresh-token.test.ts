import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { secureRandom } from '../lib/random.js'
import { createRefreshToken, openRefreshToken, sealKey, sealRefreshToken } from './refresh-token.js'

const SESSION = '3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a3b'
const OTHER_SESSION = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'

describe('refresh-token sealing (the grace-period answer, SPEC §4.3)', () => {
  it('derives exactly the HKDF-SHA256 key of RFC 5869, so tokens sealed before still open', () => {
    for (let i = 0; i < 50; i++) {
      const previous = createRefreshToken(SESSION, secureRandom)
      const salt = i % 2 === 0 ? SESSION : OTHER_SESSION
      const expected = Buffer.from(
        hkdfSync('sha256', previous, salt, 'users-core refresh-token seal v1', 32),
      )
      expect(sealKey(previous, salt).equals(expected)).toBe(true)
    }
  })

  it('opens a token sealed with a key from node:crypto hkdfSync (the stored v1 format)', () => {
    const previous = createRefreshToken(SESSION, secureRandom)
    const next = createRefreshToken(SESSION, secureRandom)
    const key = Buffer.from(
      hkdfSync('sha256', previous, SESSION, 'users-core refresh-token seal v1', 32),
    )
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    const body = Buffer.concat([cipher.update(next, 'utf8'), cipher.final()])
    const sealed = ['v1', iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.')
    expect(openRefreshToken(sealed, previous, SESSION)).toBe(next)
  })

  it('opens only with the token it replaced and the same session', () => {
    const previous = createRefreshToken(SESSION, secureRandom)
    const next = createRefreshToken(SESSION, secureRandom)
    const sealed = sealRefreshToken(next, previous, SESSION, secureRandom)
    expect(openRefreshToken(sealed, previous, SESSION)).toBe(next)
    expect(openRefreshToken(sealed, next, SESSION)).toBeUndefined()
    expect(openRefreshToken(sealed, previous, OTHER_SESSION)).toBeUndefined()
    const [version, iv, tag, body] = sealed.split('.') as [string, string, string, string]
    const tampered = Buffer.from(body, 'base64url')
    tampered[0] = (tampered[0] as number) ^ 1
    const flipped = tampered.toString('base64url')
    expect(openRefreshToken([version, iv, tag, flipped].join('.'), previous, SESSION)).toBe(
      undefined,
    )
    expect(openRefreshToken(`v2.${iv}.${tag}.${body}`, previous, SESSION)).toBeUndefined()
  })
})
