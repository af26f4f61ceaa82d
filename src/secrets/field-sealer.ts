import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import type { Store } from '../domain/store.js'
import { UsersError } from '../errors.js'
import type { Clock } from '../lib/clock.js'
import type { Random } from '../lib/random.js'

/**
 * Seals small secrets kept in rows (SIP HA1 digests, TOTP secrets) with AES-256-GCM. `context`
 * is authenticated with each value (say `sip-ha1:<credential id>:MD5`), so a sealed value copied
 * onto another row or field does not open.
 */
export interface FieldSealer {
  seal(plain: string | Uint8Array, context: string): string
  /** The plain bytes; INTERNAL_ERROR (no key material in it) when the value does not open. */
  open(sealed: string, context: string): Buffer
}

// fs1:<key source>:<iv>:<tag>:<ciphertext>, base64url; the source ('s' = derived from
// jwt.key_encryption_secret, 'd' = the generated database key) names the key a value needs.
const VERSION = 'fs1'
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
const SECRET_INFO = 'users-core field sealing v1'
const DATABASE_KEY_NAME = 'field-sealing-key'

type KeySource = 's' | 'd'

const aad = (context: string) => Buffer.from(`users-core field\n${context}`, 'utf8')

/**
 * The sealer of this instance: its key derives from `jwt.key_encryption_secret` when set (kept
 * out of the database it protects), else it is a random key generated once and kept in the
 * database, which protects against a leaked backup of the rows but not of the whole database.
 */
export async function createFieldSealer(deps: {
  secret: string | undefined
  store: Pick<Store, 'instanceSecret'>
  random: Random
  clock: Clock
}): Promise<FieldSealer> {
  const keys = new Map<KeySource, Buffer>()
  const { secret, store, random, clock } = deps
  if (secret !== undefined) {
    keys.set('s', Buffer.from(hkdfSync('sha256', secret, '', SECRET_INFO, KEY_BYTES)))
  }
  // The database key is loaded even with a secret set, so values sealed before it still open.
  const candidate = random.bytes(KEY_BYTES).toString('base64url')
  const stored = await store.instanceSecret(DATABASE_KEY_NAME, candidate, clock.now())
  keys.set('d', Buffer.from(stored, 'base64url'))
  const current: KeySource = secret !== undefined ? 's' : 'd'

  return {
    seal(plain, context) {
      const key = keys.get(current) as Buffer
      const iv = random.bytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(aad(context))
      const body = Buffer.concat([
        cipher.update(typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain),
        cipher.final(),
      ])
      const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url'))
      return `${VERSION}:${current}:${parts.join(':')}`
    },

    open(sealed, context) {
      const [version, source, ...rest] = sealed.split(':')
      const [iv, tag, body] = rest.map((p) => Buffer.from(p, 'base64url'))
      const key = keys.get(source as KeySource)
      if (version !== VERSION || rest.length !== 3 || !iv || !tag || !body) {
        throw new UsersError('INTERNAL_ERROR', { message: 'a sealed field has an unknown format' })
      }
      if (key === undefined || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
        throw new UsersError('INTERNAL_ERROR', {
          message:
            source === 's'
              ? 'a sealed field needs jwt.key_encryption_secret, which is not set'
              : 'a sealed field has an unknown format',
        })
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv)
        decipher.setAAD(aad(context))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(body), decipher.final()])
      } catch {
        throw new UsersError('INTERNAL_ERROR', {
          message:
            'cannot open a sealed field: jwt.key_encryption_secret differs from the one it was sealed with, or the value belongs to another row',
        })
      }
    },
  }
}
