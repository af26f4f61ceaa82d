import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/schema.js'
import { computeScope } from './scopes.js'

describe('computeScope', () => {
  const jwt = parseConfig({}).jwt

  it('gives the base scopes to a user without special roles', () => {
    expect(computeScope(jwt, ['user'])).toBe('openid profile email sip.register')
    expect(computeScope(jwt, [])).toBe('openid profile email sip.register')
  })

  it('appends role scopes after the base scopes', () => {
    expect(computeScope(jwt, ['user', 'admin'])).toBe('openid profile email sip.register admin')
  })

  it('keeps the order of roles and drops duplicates', () => {
    const config = {
      base_scopes: ['openid', 'read'],
      role_scopes: { ops: ['write', 'read', 'deploy'], admin: ['admin', 'write'] },
    }
    expect(computeScope(config, ['admin', 'ops', 'admin'])).toBe('openid read admin write deploy')
  })

  it('ignores roles named like Object.prototype members', () => {
    expect(computeScope(jwt, ['constructor', 'tostring', 'hasOwnProperty'])).toBe(
      'openid profile email sip.register',
    )
  })
})
