import { createCipheriv, createDecipheriv, scrypt } from 'node:crypto'
import { UsersError } from '../errors.js'
import type { Random } from '../lib/random.js'

// enc:v2:<salt>:<iv>:<tag>:<ciphertext>, base64url. scrypt (N=2^15, r=8, p=1) because the secret
// is an operator's passphrase, not a random key, then AES-256-GCM; a key is opened once per process
// (cached by kid), so scrypt's cost never lands on a request. v2 authenticates the kid as AAD, so a
// sealed key copied onto another row does not open; v1 (same fields, a fixed AAD) is still opened.
const PREFIX = 'enc:v2:'
const LEGACY_PREFIX = 'enc:v1:'
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const
const SALT_BYTES = 16
const IV_BYTES = 12
const TAG_BYTES = 16
const LEGACY_AAD = Buffer.from('users-core signing key v1')

const aadFor = (kid: string) => Buffer.from(`users-core signing key v2\n${kid}`, 'utf8')

/** True when `stored` is a sealed private key (`enc:...`) rather than a plain PEM. */
export function isSealed(stored: string): boolean {
  return stored.startsWith('enc:')
}

function deriveKey(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/**
 * Seals the private key PEM of key `kid` with `jwt.key_encryption_secret` (AES-256-GCM,
 * scrypt-derived key, the kid authenticated with it).
 */
export async function sealPrivateKey(
  pem: string,
  secret: string,
  random: Random,
  kid: string,
): Promise<string> {
  const salt = random.bytes(SALT_BYTES)
  const iv = random.bytes(IV_BYTES)
  const key = await deriveKey(secret, salt)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aadFor(kid))
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()])
  const parts = [salt, iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'))
  return `${PREFIX}${parts.join(':')}`
}

/**
 * Opens the stored private key of key `kid`: a sealed one with `secret`, a plain PEM (stored
 * before the secret was set) as it is. Errors never carry key material: a missing or wrong
 * secret, or a sealed key of another kid, is an INTERNAL_ERROR that stops start-up.
 */
export async function openPrivateKey(
  stored: string,
  secret: string | undefined,
  kid: string,
): Promise<string> {
  if (!isSealed(stored)) return stored
  const label = `signing key ${kid}`
  if (secret === undefined) {
    throw new UsersError('INTERNAL_ERROR', {
      message: `${label} is encrypted but jwt.key_encryption_secret is not set`,
    })
  }
  const prefix = [PREFIX, LEGACY_PREFIX].find((p) => stored.startsWith(p))
  const parts = prefix ? stored.slice(prefix.length).split(':') : []
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
      message: `${label} is stored in an unknown encrypted format (expected enc:v2:... or enc:v1:...)`,
    })
  }
  const key = await deriveKey(secret, salt)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAAD(prefix === PREFIX ? aadFor(kid) : LEGACY_AAD)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
  } catch {
    // GCM authentication failed: the secret differs, or the row was altered or copied from
    // another key. No cause attached.
    throw new UsersError('INTERNAL_ERROR', {
      message: `cannot decrypt ${label}: jwt.key_encryption_secret does not match the secret it was encrypted with, or the sealed key belongs to another kid`,
    })
  }
}
