import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/schema.js'
import { isUsersError } from '../../src/errors.js'

// SPEC §2: the WebAuthn relying party defaults to the host of public_url, `localhost` for an IP.
describe('mfa.* and webauthn.* configuration', () => {
  it('derives rp_id and origins from public_url', () => {
    expect(parseConfig({ public_url: 'https://users.example.com:8443/base/' }).webauthn).toEqual({
      rp_id: 'users.example.com',
      origins: ['https://users.example.com:8443'],
    })
    expect(parseConfig({ api_bind_address: '10.0.0.5:8081' }).webauthn).toEqual({
      rp_id: 'localhost',
      origins: ['http://10.0.0.5:8081'],
    })
    expect(parseConfig({ public_url: 'http://[::1]:8081' }).webauthn.rp_id).toBe('localhost')
    expect(parseConfig({}).mfa.issuer).toBe('RVoIP')
  })

  it('takes explicit values and refuses bad ones, naming each key', () => {
    const config = parseConfig({
      mfa: { issuer: 'Acme' },
      webauthn: { rp_id: 'example.com', origins: ['https://app.example.com/login'] },
    })
    expect(config.webauthn).toEqual({ rp_id: 'example.com', origins: ['https://app.example.com'] })
    let error: unknown
    try {
      parseConfig({ mfa: { issuer: '' }, webauthn: { rp_id: 'exa mple', origins: [] } })
    } catch (e) {
      error = e
    }
    expect(isUsersError(error, 'VALIDATION_ERROR')).toBe(true)
    const keys = ((error as { details: { key: string }[] }).details ?? []).map((p) => p.key)
    expect(keys).toEqual(['mfa.issuer', 'webauthn.rp_id', 'webauthn.origins'])
  })
})
