import { sha256Hex } from '../lib/constant-time.js'
import type { Random } from '../lib/random.js'

/** SPEC §12: ten single-use codes per set. */
export const RECOVERY_CODE_COUNT = 10
// 16 characters of the RFC 4648 base32 alphabet: 80 bits, so SHA-256 (not a slow password
// hash) is the right way to keep them; random codes are not guessable passwords.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const GROUP = 4
const LENGTH = 16

/** A new set of recovery codes as shown to the user once: `xxxx-xxxx-xxxx-xxxx`. */
export function generateRecoveryCodes(random: Random): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = random.string(LENGTH, ALPHABET)
    return raw.match(new RegExp(`.{${GROUP}}`, 'g'))?.join('-') ?? raw
  })
}

/** The stored form of a code as typed: case, spaces and dashes do not matter. */
export function hashRecoveryCode(code: string): string {
  return sha256Hex(code.toLowerCase().replace(/[\s-]/g, ''))
}
