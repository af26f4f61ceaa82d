import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import type { MfaFactorRecord } from '../domain/records.js'

/** The relying party: `webauthn.rp_id`, `webauthn.origins` and `mfa.issuer` as its name. */
export interface RelyingParty {
  id: string
  name: string
  origins: readonly string[]
}

export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
}

/** How long a browser may take over a ceremony; the server-side challenge lives as long. */
export const WEBAUTHN_TIMEOUT_MS = 300_000

const transportsOf = (f: MfaFactorRecord) => f.transports as AuthenticatorTransportFuture[]

/**
 * Registration options for a second factor: no attestation (no device policy to enforce), the
 * user's credentials excluded so one authenticator is not registered twice, user verification
 * preferred (a password already proved knowledge; the key proves possession).
 */
export function registrationOptions(
  rp: RelyingParty,
  user: { id: string; username: string; displayName: string | null },
  existing: readonly MfaFactorRecord[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.username,
    userDisplayName: user.displayName ?? user.username,
    userID: new TextEncoder().encode(user.id),
    timeout: WEBAUTHN_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((f) => ({
      id: f.credentialId as string,
      transports: transportsOf(f),
    })),
    authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
  })
}

/** The challenge a browser signed, read from its `clientDataJSON`; undefined when unreadable. */
export function challengeOf(response: {
  response: { clientDataJSON: string }
}): string | undefined {
  try {
    const data = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString())
    return typeof data?.challenge === 'string' ? data.challenge : undefined
  } catch {
    return undefined
  }
}

/** The credential a verified registration yields, or undefined when it does not verify. */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
): Promise<
  { credentialId: string; publicKey: string; signCount: number; transports: string[] } | undefined
> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserVerification: false,
    })
    if (!result.verified) return undefined
    const { credential } = result.registrationInfo
    return {
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      signCount: credential.counter,
      transports: credential.transports ?? response.response.transports ?? [],
    }
  } catch {
    // The library throws for every malformed or mismatching response: all of them are a "no".
    return undefined
  }
}

/** Request options naming the user's credentials, for the second step of a login. */
export function authenticationOptions(
  rp: RelyingParty,
  credentials: readonly MfaFactorRecord[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    timeout: WEBAUTHN_TIMEOUT_MS,
    userVerification: 'preferred',
    allowCredentials: credentials.map((f) => ({
      id: f.credentialId as string,
      transports: transportsOf(f),
    })),
  })
}

/**
 * The new signature counter when `response` is a valid assertion of `credential` over
 * `expectedChallenge`, else undefined. The library refuses a counter that did not grow (a cloned
 * authenticator) unless both are zero, as authenticators without a counter report.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  credential: MfaFactorRecord,
): Promise<number | undefined> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserVerification: false,
      credential: {
        id: credential.credentialId as string,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey as string, 'base64url')),
        counter: credential.signCount ?? 0,
        transports: transportsOf(credential),
      },
    })
    return result.verified ? result.authenticationInfo.newCounter : undefined
  } catch {
    return undefined
  }
}
