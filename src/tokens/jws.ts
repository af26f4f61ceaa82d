import { type KeyObject, sign } from 'node:crypto'
import type { SigningAlgorithm } from '../domain/records.js'

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
 * node:crypto's digest and key argument for each JWS algorithm, and whether the signature is
 * worth a hop to libuv's pool: an RSA signature would hold the event loop for a long time, while
 * an ECDSA or Ed25519 one costs less than the hop itself.
 */
function signingParams(signer: JwsSigner) {
  switch (signer.algorithm) {
    case 'RS256': // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), node's RSA default padding
      return { digest: 'sha256', key: signer.privateKey, offload: true }
    case 'ES256': // JWS wants r||s, not DER (RFC 7518 §3.4)
      return {
        digest: 'sha256',
        key: { key: signer.privateKey, dsaEncoding: 'ieee-p1363' as const },
        offload: false,
      }
    case 'EdDSA': // Ed25519 hashes internally (RFC 8037 §3.1)
      return { digest: null, key: signer.privateKey, offload: false }
  }
}

/**
 * Signs `payload` as a compact JWS (RFC 7515 §7.1). Verification is jose's (`access-token.ts`);
 * signing stays here on parsed KeyObjects because it is cheaper than jose's.
 */
export function signCompactJws(payload: object, signer: JwsSigner): Promise<string> {
  const header: JwtHeader = { alg: signer.algorithm, typ: 'JWT', kid: signer.kid }
  const input = `${encodeJson(header)}.${encodeJson(payload)}`
  const data = Buffer.from(input, 'ascii')
  const { digest, key, offload } = signingParams(signer)
  if (!offload) {
    try {
      return Promise.resolve(`${input}.${sign(digest, data, key).toString('base64url')}`)
    } catch (error) {
      return Promise.reject(error)
    }
  }
  return new Promise((resolve, reject) => {
    sign(digest, data, key, (error, signature) => {
      if (error) reject(error)
      else resolve(`${input}.${signature.toString('base64url')}`)
    })
  })
}
