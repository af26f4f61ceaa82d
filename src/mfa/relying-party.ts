import type { Config } from '../config/schema.js'
import type { RelyingParty } from './webauthn.js'

/** The WebAuthn relying party of this configuration (SPEC §2 `webauthn.*`, `mfa.issuer`). */
export function relyingParty(config: Config): RelyingParty {
  return { id: config.webauthn.rp_id, name: config.mfa.issuer, origins: config.webauthn.origins }
}
