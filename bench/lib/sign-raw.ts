import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  type SignKeyObjectInput,
  sign,
} from 'node:crypto'
import { SignJWT } from 'jose'
import type { SigningAlgorithm } from '../../src/domain/records.js'

/** Claims shaped like a users-core access token (SPEC §4.1), so payload sizes match. */
function claims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: 'https://users.rvoip.local',
    sub: randomUUID(),
    aud: ['rvoip-api', 'rvoip-sip'],
    exp: now + 900,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    username: 'u0000001',
    email: 'u0000001@bench.test',
    roles: ['user'],
    scope: 'openid profile email sip.register',
    sid: randomUUID(),
  }
}

function keyPair(alg: SigningAlgorithm): KeyObject {
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  return generateKeyPairSync('ed25519').privateKey
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** The three ways to sign a JWS the bench compares, all over the same key and claims shape. */
export function signers(alg: SigningAlgorithm): {
  /** jose `SignJWT` (WebCrypto: async, on the libuv thread pool). */
  jose: () => Promise<string>
  /** node:crypto `sign()` without a callback: synchronous, on the calling thread. */
  nodeSync: () => string
  /** node:crypto `sign()` with a callback: on the libuv thread pool. */
  nodeAsync: () => Promise<string>
} {
  const key = keyPair(alg)
  const pem = key.export({ format: 'pem', type: 'pkcs8' })
  const joseKey = createPrivateKey(pem)
  const digest = alg === 'EdDSA' ? null : 'sha256'
  const signKey: SignKeyObjectInput = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : { key }
  const header = { alg, typ: 'JWT', kid: 'bench-kid-0123456789abcdef0123456789abcdef01234' }
  const input = () => `${b64url(header)}.${b64url(claims())}`
  return {
    jose: () => new SignJWT(claims()).setProtectedHeader(header).sign(joseKey),
    nodeSync: () => {
      const data = input()
      return `${data}.${sign(digest, Buffer.from(data), signKey).toString('base64url')}`
    },
    nodeAsync: () =>
      new Promise((resolve, reject) => {
        const data = input()
        sign(digest, Buffer.from(data), signKey, (error, signature) =>
          error ? reject(error) : resolve(`${data}.${signature.toString('base64url')}`),
        )
      }),
  }
}
