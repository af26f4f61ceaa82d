import type { Config } from '../config/schema.js'
import { UsersError } from '../errors.js'
import { isCommonPassword } from './common-passwords.js'

/** The rules of the password policy (SPEC §2), as named in `details.rules` of WEAK_PASSWORD. */
export type PasswordRule =
  | 'min_length'
  | 'max_length'
  | 'uppercase'
  | 'lowercase'
  | 'numbers'
  | 'special'
  | 'common'
  | 'contains_username'

/** Every rule name, in the order they are checked and reported. */
export const PASSWORD_RULES: readonly PasswordRule[] = [
  'min_length',
  'max_length',
  'uppercase',
  'lowercase',
  'numbers',
  'special',
  'common',
  'contains_username',
]

/** The `config.password` keys the policy reads. */
export type PasswordPolicy = Pick<
  Config['password'],
  | 'min_length'
  | 'max_length'
  | 'require_uppercase'
  | 'require_lowercase'
  | 'require_numbers'
  | 'require_special'
  | 'reject_common'
>

/**
 * The one normal form of a password: NFKC, so that look-alike inputs (full-width letters,
 * ligatures, composed vs decomposed accents) hash the same. Apply it before hashing and verifying.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

const UPPERCASE = /[\p{Lu}\p{Lt}]/u
const LOWERCASE = /\p{Ll}/u
const NUMBER = /\p{Nd}/u
// Anything that is not a letter, a combining mark or a digit: punctuation, symbols, spaces.
const SPECIAL = /[^\p{L}\p{M}\p{N}]/u
// Shorter names would match far too many passwords to mean anything.
const MIN_USERNAME_TO_MATCH = 3

function countCodePoints(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}

/**
 * Checks `password` against the policy after NFKC normalisation and returns every rule it
 * fails (empty when it passes), in the order of {@link PASSWORD_RULES}.
 */
export function checkPasswordPolicy(
  password: string,
  policy: PasswordPolicy,
  username?: string,
): PasswordRule[] {
  const normalized = normalizePassword(password)
  const length = countCodePoints(normalized)
  const failed: PasswordRule[] = []
  if (length < policy.min_length) failed.push('min_length')
  if (length > policy.max_length) failed.push('max_length')
  if (policy.require_uppercase && !UPPERCASE.test(normalized)) failed.push('uppercase')
  if (policy.require_lowercase && !LOWERCASE.test(normalized)) failed.push('lowercase')
  if (policy.require_numbers && !NUMBER.test(normalized)) failed.push('numbers')
  if (policy.require_special && !SPECIAL.test(normalized)) failed.push('special')
  if (policy.reject_common) {
    if (isCommonPassword(normalized)) failed.push('common')
    const name = username === undefined ? '' : normalizePassword(username).toLowerCase()
    if (countCodePoints(name) >= MIN_USERNAME_TO_MATCH && normalized.toLowerCase().includes(name)) {
      failed.push('contains_username')
    }
  }
  return failed
}

function describeRule(rule: PasswordRule, policy: PasswordPolicy): string {
  switch (rule) {
    case 'min_length':
      return `is shorter than ${policy.min_length} characters`
    case 'max_length':
      return `is longer than ${policy.max_length} characters`
    case 'uppercase':
      return 'has no uppercase letter'
    case 'lowercase':
      return 'has no lowercase letter'
    case 'numbers':
      return 'has no digit'
    case 'special':
      return 'has no special character'
    case 'common':
      return 'is a commonly used password'
    case 'contains_username':
      return 'contains the username'
  }
}

/** One sentence naming every failed rule in words, e.g. for the WEAK_PASSWORD message. */
export function describePasswordRules(rules: readonly PasswordRule[], policy: PasswordPolicy) {
  const parts = rules.map((rule) => describeRule(rule, policy))
  if (parts.length === 0) return 'The password meets the password policy.'
  const last = parts.pop()
  const list = parts.length > 0 ? `${parts.join(', ')} and ${last}` : last
  return `The password ${list}.`
}

/**
 * Throws `WEAK_PASSWORD` with `details.rules` listing every failed rule (SPEC §3, §6.1) when
 * `password` fails the policy.
 */
export function assertPasswordPolicy(
  password: string,
  policy: PasswordPolicy,
  username?: string,
): void {
  const rules = checkPasswordPolicy(password, policy, username)
  if (rules.length > 0) {
    throw new UsersError('WEAK_PASSWORD', {
      message: describePasswordRules(rules, policy),
      details: { rules },
    })
  }
}
