import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/schema.js'
import { isUsersError, type UsersError } from '../errors.js'
import { isCommonPassword, loadCommonPasswords } from './common-passwords.js'
import {
  assertPasswordPolicy,
  checkPasswordPolicy,
  describePasswordRules,
  normalizePassword,
  PASSWORD_RULES,
  type PasswordPolicy,
} from './policy.js'

const DEFAULTS: PasswordPolicy = parseConfig({}).password
const LAX: PasswordPolicy = {
  min_length: 1,
  max_length: 4096,
  require_uppercase: false,
  require_lowercase: false,
  require_numbers: false,
  require_special: false,
  reject_common: false,
}

describe('common passwords', () => {
  it('ships at least 10,000 entries', () => {
    expect(loadCommonPasswords()).toBeGreaterThanOrEqual(10_000)
  })

  it('matches entries ignoring case', () => {
    expect(isCommonPassword('password1')).toBe(true)
    expect(isCommonPassword('Password123')).toBe(true)
    expect(isCommonPassword('QWERTY')).toBe(true)
    expect(isCommonPassword('Vl7-carrot-pine-Quartz')).toBe(false)
  })
})

describe('checkPasswordPolicy', () => {
  it('passes a password meeting the default policy', () => {
    expect(checkPasswordPolicy('Vl7-carrot-pine', DEFAULTS, 'alice')).toEqual([])
  })

  it('reports every failed rule at once, in a fixed order', () => {
    const policy = { ...DEFAULTS, require_special: true }
    expect(checkPasswordPolicy('xqz', policy, 'xqz')).toEqual([
      'min_length',
      'uppercase',
      'numbers',
      'special',
      'contains_username',
    ])
    expect(checkPasswordPolicy('password', policy)).toEqual([
      'uppercase',
      'numbers',
      'special',
      'common',
    ])
    expect(checkPasswordPolicy('1234567890', policy)).toEqual([
      'uppercase',
      'lowercase',
      'special',
      'common',
    ])
  })

  it('rejects common passwords whatever their case when reject_common is on', () => {
    expect(checkPasswordPolicy('Password123', DEFAULTS)).toEqual(['common'])
    expect(checkPasswordPolicy('PASSWORD1', DEFAULTS)).toEqual(['lowercase', 'common'])
    expect(checkPasswordPolicy('Password123', { ...DEFAULTS, reject_common: false })).toEqual([])
  })

  it('rejects passwords containing the username, case-insensitively, under reject_common', () => {
    expect(checkPasswordPolicy('My-Alice-2024', DEFAULTS, 'alice')).toEqual(['contains_username'])
    expect(checkPasswordPolicy('My-alice-2024', DEFAULTS, 'ALICE')).toEqual(['contains_username'])
    expect(checkPasswordPolicy('My-Alice-2024', DEFAULTS, 'bob')).toEqual([])
    expect(checkPasswordPolicy('My-Alice-2024', DEFAULTS)).toEqual([])
    expect(
      checkPasswordPolicy('My-Alice-2024', { ...DEFAULTS, reject_common: false }, 'alice'),
    ).toEqual([])
  })

  it('ignores usernames too short to mean anything', () => {
    expect(checkPasswordPolicy('Vl7-carrot-pine', DEFAULTS, 'pi')).toEqual([])
  })

  it('checks after NFKC: full-width characters count as their ASCII forms', () => {
    const fullWidth = 'Ｐａｓｓｗｏｒｄ１'
    expect(normalizePassword(fullWidth)).toBe('Password1')
    expect(checkPasswordPolicy(fullWidth, DEFAULTS)).toEqual(['common'])
    // Full-width digits are digits, and the username matches through normalisation too.
    expect(checkPasswordPolicy('Zebra-ｃａｒｏｌ-９９', DEFAULTS, 'carol')).toEqual([
      'contains_username',
    ])
  })

  it('counts length in code points after NFKC', () => {
    const policy = { ...LAX, min_length: 2, max_length: 3 }
    // One code point, two UTF-16 units: still too short.
    expect(checkPasswordPolicy('😀', policy)).toEqual(['min_length'])
    // The ﬁ ligature becomes "fi" (two characters).
    expect(checkPasswordPolicy('ﬁ', policy)).toEqual([])
    expect(checkPasswordPolicy('😀😀😀', policy)).toEqual([])
    expect(checkPasswordPolicy('😀😀😀😀', policy)).toEqual(['max_length'])
    // The ㎒ square becomes "MHz": three characters, over max 2.
    expect(checkPasswordPolicy('㎒', { ...policy, max_length: 2 })).toEqual(['max_length'])
  })

  it('treats non-ASCII letters and digits as letters and digits', () => {
    expect(checkPasswordPolicy('Ärger-über-٣', { ...DEFAULTS, require_special: true })).toEqual([])
  })

  it('reports special only when required', () => {
    expect(checkPasswordPolicy('Xqzvbnwp1', { ...DEFAULTS, require_special: true })).toEqual([
      'special',
    ])
    expect(checkPasswordPolicy('Xqzvbnwp1 ', { ...DEFAULTS, require_special: true })).toEqual([])
  })

  it('never reports a rule twice and always in PASSWORD_RULES order', () => {
    const policy = { ...DEFAULTS, require_special: true }
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.option(fc.string()), (password, name) => {
        const rules = checkPasswordPolicy(password, policy, name ?? undefined)
        const indexes = rules.map((r) => PASSWORD_RULES.indexOf(r))
        expect(indexes.every((i) => i >= 0)).toBe(true)
        expect([...indexes].sort((a, b) => a - b)).toEqual(indexes)
        expect(new Set(rules).size).toBe(rules.length)
      }),
    )
  })

  it('with every rule off, accepts any non-empty password', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), (password) => {
        expect(checkPasswordPolicy(password, LAX)).toEqual([])
      }),
    )
  })
})

describe('assertPasswordPolicy', () => {
  it('throws WEAK_PASSWORD listing every failed rule, with one sentence naming them', () => {
    let error: UsersError | undefined
    try {
      assertPasswordPolicy('alice', { ...DEFAULTS, require_special: true }, 'alice')
    } catch (e) {
      if (isUsersError(e)) error = e
    }
    expect(error?.code).toBe('WEAK_PASSWORD')
    expect(error?.details).toEqual({
      rules: ['min_length', 'uppercase', 'numbers', 'special', 'common', 'contains_username'],
    })
    expect(error?.message).toBe(
      'The password is shorter than 8 characters, has no uppercase letter, has no digit, ' +
        'has no special character, is a commonly used password and contains the username.',
    )
  })

  it('returns quietly for a good password', () => {
    expect(() => assertPasswordPolicy('Vl7-carrot-pine', DEFAULTS, 'alice')).not.toThrow()
  })

  it('describes a single rule without a list', () => {
    expect(describePasswordRules(['numbers'], DEFAULTS)).toBe('The password has no digit.')
  })
})
