import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { calculateJwkThumbprint } from 'jose'
import type { SigningAlgorithm } from '../domain/records.js'
import { UsersError } from '../errors.js'
import type { PublicJwk } from '../types.js'

/** A signing key ready to use: its id, public JWK and the parsed private key. */
export interface SigningKeyMaterial {
  /** RFC 7638 thumbprint (SHA-256) of the public key. */
  kid: string
  algorithm: SigningAlgorithm
  publicJwk: PublicJwk
  privateKey: KeyObject
}

/** A freshly generated key, with the PKCS#8 PEM the store keeps (sealed or not). */
export interface GeneratedSigningKey extends SigningKeyMaterial {
  privateKeyPem: string
}

// Public members per key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2); nothing private leaks.
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
}

/** Generates a key pair for `algorithm`: RSA 2048, P-256 or Ed25519 (SPEC §2 `jwt.algorithm`). */
export async function generateSigningKey(
  algorithm: SigningAlgorithm,
): Promise<GeneratedSigningKey> {
  const privateKey = await generatePrivateKey(algorithm)
  const publicJwk = await publicJwkOf(privateKey, algorithm)
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  return { kid: publicJwk.kid, algorithm, publicJwk, privateKey, privateKeyPem }
}

function generatePrivateKey(algorithm: SigningAlgorithm): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _publicKey: KeyObject, privateKey: KeyObject) => {
      if (err) reject(err)
      else resolve(privateKey)
    }
    switch (algorithm) {
      case 'RS256':
        generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, done)
        break
      case 'ES256':
        generateKeyPair('ec', { namedCurve: 'P-256' }, done)
        break
      case 'EdDSA':
        generateKeyPair('ed25519', undefined, done)
        break
    }
  })
}

/**
 * The public JWK of a private key as published in the JWKS: public members only, plus `kid`
 * (its RFC 7638 thumbprint), `use: 'sig'` and `alg`.
 */
export async function publicJwkOf(
  privateKey: KeyObject,
  algorithm: SigningAlgorithm,
): Promise<PublicJwk> {
  const members = publicMembers(createPublicKey(privateKey).export({ format: 'jwk' }))
  const kid = await calculateJwkThumbprint(members, 'sha256')
  return { ...members, kid, use: 'sig', alg: algorithm }
}

/** Only the public members of a JWK (`kty` and n/e, crv/x/y or crv/x); private ones are dropped. */
export function publicMembers(
  jwk: Record<string, unknown>,
): { kty: string } & Record<string, unknown> {
  const kty = String(jwk.kty)
  const members: { kty: string } & Record<string, unknown> = { kty }
  for (const name of PUBLIC_MEMBERS[kty] ?? []) {
    if (typeof jwk[name] === 'string') members[name] = jwk[name]
  }
  return members
}

/**
 * Parses a PEM private key (PKCS#8, PKCS#1 or SEC1) and checks it suits `algorithm`; `label`
 * names where it came from in the error. Errors never quote the key.
 */
export function parsePrivateKeyPem(
  pem: string,
  algorithm: SigningAlgorithm,
  label: string,
): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem' })
  } catch (cause) {
    throw new UsersError('VALIDATION_ERROR', {
      message: `${label}: not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)`,
      cause,
    })
  }
  assertKeySuitsAlgorithm(key, algorithm, label)
  return key
}

/** Throws VALIDATION_ERROR unless `key` can sign `algorithm` (type, curve, RSA size). */
export function assertKeySuitsAlgorithm(
  key: KeyObject,
  algorithm: SigningAlgorithm,
  label: string,
): void {
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  const ok =
    (algorithm === 'RS256' && type === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (algorithm === 'ES256' && type === 'ec' && details.namedCurve === 'prime256v1') ||
    (algorithm === 'EdDSA' && type === 'ed25519')
  if (ok) return
  throw new UsersError('VALIDATION_ERROR', {
    message: `${label}: the key is ${describeKey(key)} but jwt.algorithm ${algorithm} needs ${NEEDS[algorithm]}`,
  })
}

const NEEDS: Readonly<Record<SigningAlgorithm, string>> = {
  RS256: 'an RSA key of at least 2048 bits',
  ES256: 'an EC P-256 key',
  EdDSA: 'an Ed25519 key',
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'rsa') return `an RSA key of ${details.modulusLength} bits`
  if (key.asymmetricKeyType === 'ec') return `an EC key on curve ${details.namedCurve}`
  return `a key of type ${key.asymmetricKeyType ?? 'unknown'}`
}

/**
 * Loads `jwt.private_key_file`: a PEM private key (PKCS#8, PKCS#1 or SEC1) that must suit the
 * configured algorithm; its kid is its thumbprint. VALIDATION_ERROR with a clear reason otherwise.
 */
export async function loadPrivateKeyFile(
  path: string,
  algorithm: SigningAlgorithm,
): Promise<SigningKeyMaterial> {
  const label = `jwt.private_key_file ${path}`
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new UsersError('VALIDATION_ERROR', { message: `${label}: cannot read (${code})`, cause })
  }
  const privateKey = parsePrivateKeyPem(pem, algorithm, label)
  const publicJwk = await publicJwkOf(privateKey, algorithm)
  return { kid: publicJwk.kid, algorithm, publicJwk, privateKey }
}
