import { type KeyObject, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../storage/records.js'

/** What signs a JWS: the key id for the header, its algorithm and the parsed private key. */
export interface JwsSigner {
  kid: string
  algorithm: SigningAlgorithm
  privateKey: KeyObject
}

/** The protected header of every token users-core signs (SPEC §4.1), exactly these members. */
export interface JwtHeader {
  alg: SigningAlgorithm
  typ: 'JWT'
  kid: string
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/**
 * Signs `payload` as a compact JWS with synchronous node:crypto (RFC 7515 §7.1). Synchronous on
 * purpose: WebCrypto (jose) runs on the libuv pool behind Argon2 hashes, this never waits there.
 */
export function signCompactJws(payload: object, signer: JwsSigner): string {
  const header: JwtHeader = { alg: signer.algorithm, typ: 'JWT', kid: signer.kid }
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`
  const data = Buffer.from(signingInput, 'ascii')
  let signature: Buffer
  switch (signer.algorithm) {
    case 'RS256': // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), node's RSA default padding
      signature = sign('sha256', data, signer.privateKey)
      break
    case 'ES256': // JWS wants r||s, not DER (RFC 7518 §3.4)
      signature = sign('sha256', data, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' })
      break
    case 'EdDSA': // Ed25519 hashes internally (RFC 8037 §3.1)
      signature = sign(null, data, signer.privateKey)
      break
  }
  return `${signingInput}.${signature.toString('base64url')}`
}
