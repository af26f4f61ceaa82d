// Seals a private key the way users-core did before enc:v2 (fixed AAD, no kid): for tests that
// prove such stored keys still open.
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto'

/** An `enc:v1:` sealed value of `pem` under `secret`. */
export function sealPrivateKeyV1(pem: string, secret: string): string {
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const key = scryptSync(secret, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from('users-core signing key v1'))
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()])
  const parts = [salt, iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'))
  return `enc:v1:${parts.join(':')}`
}
