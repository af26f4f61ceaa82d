import { createCipheriv, createDecipheriv, scrypt } from 'node:crypto'
import { UsersError } from '../errors.js'
import type { Random } from '../lib/random.js'

// enc:v1:<salt>:<iv>:<tag>:<ciphertext>, base64url. v1 fixes the parameters below: scrypt
// (N=2^15, r=8, p=1) because the secret is an operator's passphrase, not a random key, then
// AES-256-GCM. Each key is sealed and opened once per process (cached by kid), so ~80 ms is fine.
const PREFIX = 'enc:v1:'
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const
const SALT_BYTES = 16
const IV_BYTES = 12
const TAG_BYTES = 16
const AAD = Buffer.from('users-core signing key v1')

/** True when `stored` is a sealed private key (`enc:v1:...`) rather than a plain PEM. */
export function isSealed(stored: string): boolean {
  return stored.startsWith('enc:')
}

function deriveKey(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** Seals a private key PEM with `jwt.key_encryption_secret` (AES-256-GCM, scrypt-derived key). */
export async function sealPrivateKey(pem: string, secret: string, random: Random): Promise<string> {
  const salt = random.bytes(SALT_BYTES)
  const iv = random.bytes(IV_BYTES)
  const key = await deriveKey(secret, salt)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(AAD)
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()])
  const parts = [salt, iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'))
  return `${PREFIX}${parts.join(':')}`
}

/**
 * Opens a stored private key: a sealed one with `secret`, a plain PEM (stored before the secret
 * was set) as it is. `label` names the key in errors, which never carry key material: a missing
 * or wrong secret is an INTERNAL_ERROR that stops start-up.
 */
export async function openPrivateKey(
  stored: string,
  secret: string | undefined,
  label: string,
): Promise<string> {
  if (!isSealed(stored)) return stored
  if (secret === undefined) {
    throw new UsersError('INTERNAL_ERROR', {
      message: `${label} is encrypted but jwt.key_encryption_secret is not set`,
    })
  }
  const parts = stored.startsWith(PREFIX) ? stored.slice(PREFIX.length).split(':') : []
  const [salt, iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64url'))
  if (
    parts.length !== 4 ||
    !salt ||
    !iv ||
    !tag ||
    !ciphertext ||
    salt.length !== SALT_BYTES ||
    iv.length !== IV_BYTES ||
    tag.length !== TAG_BYTES
  ) {
    throw new UsersError('INTERNAL_ERROR', {
      message: `${label} is stored in an unknown encrypted format (expected enc:v1:...)`,
    })
  }
  const key = await deriveKey(secret, salt)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAAD(AAD)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
  } catch {
    // GCM authentication failed: the secret differs (or the row was altered). No cause attached.
    throw new UsersError('INTERNAL_ERROR', {
      message: `cannot decrypt ${label}: jwt.key_encryption_secret does not match the secret it was encrypted with`,
    })
  }
}
