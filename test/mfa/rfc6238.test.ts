import { describe, expect, it } from 'vitest'
import { hotp, totpAt } from './rfc6238.js'

// The helper itself against the published test vectors, so the MFA tests rest on known ground.
describe('RFC 6238 test helper', () => {
  const key = Buffer.from('12345678901234567890', 'ascii')

  it('matches RFC 4226 appendix D', () => {
    expect([0, 1, 2, 9].map((n) => hotp(key, n))).toEqual(['755224', '287082', '359152', '520489'])
  })

  it('matches RFC 6238 appendix B (SHA-1, last 6 digits)', () => {
    // base32 of "12345678901234567890"
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'
    expect(totpAt(secret, new Date(59_000))).toBe('287082')
    expect(totpAt(secret, new Date(1_111_111_109_000))).toBe('081804')
    expect(totpAt(secret, new Date(20_000_000_000_000))).toBe('353130')
  })
})
