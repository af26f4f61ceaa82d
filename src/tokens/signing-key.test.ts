import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateJwkThumbprint } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import type { SigningAlgorithm } from '../domain/records.js'
import { generateSigningKey, loadPrivateKeyFile } from './signing-key.js'

const dir = mkdtempSync(join(tmpdir(), 'users-core-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function writeKey(name: string, pem: string): string {
  const path = join(dir, name)
  writeFileSync(path, pem)
  return path
}

describe('generateSigningKey', () => {
  const cases: [SigningAlgorithm, Record<string, unknown>, string[]][] = [
    ['RS256', { kty: 'RSA', e: 'AQAB' }, ['kty', 'n', 'e', 'kid', 'use', 'alg']],
    ['ES256', { kty: 'EC', crv: 'P-256' }, ['kty', 'crv', 'x', 'y', 'kid', 'use', 'alg']],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }, ['kty', 'crv', 'x', 'kid', 'use', 'alg']],
  ]
  it.each(cases)(
    '%s: public members only, kid = RFC 7638 thumbprint',
    async (alg, expected, members) => {
      const key = await generateSigningKey(alg)
      expect(key.publicJwk).toMatchObject({ ...expected, use: 'sig', alg })
      expect(Object.keys(key.publicJwk).sort()).toEqual([...members].sort())
      expect(key.publicJwk).not.toHaveProperty('d')
      expect(key.kid).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))
      expect(key.kid).toMatch(/^[\w-]{43}$/)
      expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    },
  )

  it('RS256 keys are 2048-bit RSA', async () => {
    const key = await generateSigningKey('RS256')
    expect(key.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('never gives two keys the same kid', async () => {
    const a = await generateSigningKey('EdDSA')
    const b = await generateSigningKey('EdDSA')
    expect(a.kid).not.toBe(b.kid)
  })
})

describe('loadPrivateKeyFile', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')

  it('loads PKCS#8, PKCS#1 (RSA) and SEC1 (EC) PEM files', async () => {
    const pkcs8 = writeKey(
      'rsa8.pem',
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    const pkcs1 = writeKey(
      'rsa1.pem',
      rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    )
    const sec1 = writeKey('ec.pem', ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string)
    const edPath = writeKey(
      'ed.pem',
      ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    const a = await loadPrivateKeyFile(pkcs8, 'RS256')
    const b = await loadPrivateKeyFile(pkcs1, 'RS256')
    expect(a.kid).toBe(b.kid)
    const expectedKid = await calculateJwkThumbprint(
      rsa.publicKey.export({ format: 'jwk' }) as Record<string, string>,
      'sha256',
    )
    expect(a.kid).toBe(expectedKid)
    expect((await loadPrivateKeyFile(sec1, 'ES256')).publicJwk).toMatchObject({ crv: 'P-256' })
    expect((await loadPrivateKeyFile(edPath, 'EdDSA')).publicJwk).toMatchObject({ crv: 'Ed25519' })
  })

  it('refuses a key of the wrong type for the algorithm, naming both', async () => {
    const path = writeKey(
      'ec-for-rs.pem',
      ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    await expect(loadPrivateKeyFile(path, 'RS256')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/EC key on curve prime256v1.*RS256 needs an RSA key/),
    })
    const edPath = writeKey(
      'ed-for-es.pem',
      ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    await expect(loadPrivateKeyFile(edPath, 'ES256')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    })
  })

  it('refuses another EC curve for ES256 and RSA under 2048 bits', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const p384Path = writeKey(
      'p384.pem',
      p384.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    const smallPath = writeKey(
      'small.pem',
      small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    await expect(loadPrivateKeyFile(p384Path, 'ES256')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    })
    await expect(loadPrivateKeyFile(smallPath, 'RS256')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/1024 bits/),
    })
  })

  it('refuses a public key, junk and an encrypted key without quoting them', async () => {
    const pub = createPublicKey(rsa.privateKey).export({ type: 'spki', format: 'pem' }) as string
    const encrypted = rsa.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pass',
    }) as string
    for (const [name, text] of [
      ['pub.pem', pub],
      ['junk.pem', 'hello'],
      ['enc.pem', encrypted],
    ] as const) {
      const error = await loadPrivateKeyFile(writeKey(name, text), 'RS256').catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'VALIDATION_ERROR' })
      expect((error as Error).message).toMatch(/not an unencrypted PEM private key/)
      expect((error as Error).message).not.toContain('BEGIN')
    }
  })

  it('says when the file cannot be read', async () => {
    await expect(loadPrivateKeyFile(join(dir, 'missing.pem'), 'RS256')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/cannot read \(ENOENT\)/),
    })
  })
})
