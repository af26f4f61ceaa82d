import { describe, expect, it } from 'vitest'
import { sealPrivateKeyV1 } from '../../test/helpers/legacy-sealed-key.js'
import { isUsersError } from '../errors.js'
import { secureRandom } from '../lib/random.js'
import { isSealed, openPrivateKey, sealPrivateKey } from './key-encryption.js'
import { generateSigningKey } from './signing-key.js'

const SECRET = 'correct horse battery staple'

describe('key encryption', () => {
  it('seals to enc:v2 with five base64url fields and opens back to the PEM', async () => {
    const { privateKeyPem } = await generateSigningKey('ES256')
    const sealed = await sealPrivateKey(privateKeyPem, SECRET, secureRandom, 'k1')
    expect(sealed).toMatch(/^enc:v2:[\w-]+:[\w-]+:[\w-]+:[\w-]+$/)
    expect(sealed).not.toContain('PRIVATE KEY')
    expect(isSealed(sealed)).toBe(true)
    expect(await openPrivateKey(sealed, SECRET, 'k1')).toBe(privateKeyPem)
  })

  it('uses a fresh salt and iv each time', async () => {
    const a = await sealPrivateKey('pem', SECRET, secureRandom, 'k1')
    const b = await sealPrivateKey('pem', SECRET, secureRandom, 'k1')
    expect(a).not.toBe(b)
  })

  it('fails clearly, without key material, when the secret does not match', async () => {
    const { privateKeyPem } = await generateSigningKey('EdDSA')
    const sealed = await sealPrivateKey(privateKeyPem, SECRET, secureRandom, 'k1')
    const error = await openPrivateKey(sealed, 'another secret, same length!', 'k1').catch(
      (e: unknown) => e,
    )
    expect(isUsersError(error, 'INTERNAL_ERROR')).toBe(true)
    const message = (error as Error).message
    expect(message).toMatch(/key_encryption_secret does not match/)
    expect(message).toContain('signing key k1')
    expect(message).not.toContain(SECRET)
    expect(message).not.toContain(sealed)
  })

  it('fails when a sealed key meets no secret', async () => {
    const sealed = await sealPrivateKey('pem', SECRET, secureRandom, 'k1')
    await expect(openPrivateKey(sealed, undefined, 'k1')).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringMatching(/key_encryption_secret is not set/),
    })
  })

  it('detects a tampered ciphertext', async () => {
    const sealed = await sealPrivateKey('some pem text', SECRET, secureRandom, 'k')
    const parts = sealed.split(':')
    const ct = Buffer.from(parts[5] as string, 'base64url')
    ct[0] = (ct[0] as number) ^ 1
    parts[5] = ct.toString('base64url')
    await expect(openPrivateKey(parts.join(':'), SECRET, 'k')).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
    })
  })

  it('rejects a malformed or unknown-version sealed value', async () => {
    await expect(openPrivateKey('enc:v2:abc', SECRET, 'k')).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
    })
    await expect(openPrivateKey('enc:v9:a:b:c:d', SECRET, 'k')).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringMatching(/unknown encrypted format/),
    })
  })

  it('binds a sealed key to its kid: on another key row it does not open', async () => {
    const sealed = await sealPrivateKey('some pem text', SECRET, secureRandom, 'kid-a')
    expect(await openPrivateKey(sealed, SECRET, 'kid-a')).toBe('some pem text')
    await expect(openPrivateKey(sealed, SECRET, 'kid-b')).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
    })
  })

  it('still opens keys sealed as enc:v1, before the kid was bound', async () => {
    const { privateKeyPem } = await generateSigningKey('ES256')
    const legacy = sealPrivateKeyV1(privateKeyPem, SECRET)
    expect(await openPrivateKey(legacy, SECRET, 'k1')).toBe(privateKeyPem)
    await expect(
      openPrivateKey(legacy, 'another secret, same length!', 'k1'),
    ).rejects.toMatchObject({ code: 'INTERNAL_ERROR' })
  })

  it('passes a plain PEM stored before the secret was set through unchanged', async () => {
    const { privateKeyPem } = await generateSigningKey('ES256')
    expect(isSealed(privateKeyPem)).toBe(false)
    expect(await openPrivateKey(privateKeyPem, SECRET, 'k')).toBe(privateKeyPem)
    expect(await openPrivateKey(privateKeyPem, undefined, 'k')).toBe(privateKeyPem)
  })
})
