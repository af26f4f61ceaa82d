import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isUsersError } from '../errors.js'
import type { CreateUserInput, UpdateUserInput } from '../types.js'
import {
  apiKeyNameSchema,
  displayNameSchema,
  emailSchema,
  type FieldProblem,
  permissionSchema,
  permissionsSchema,
  plainTextSchema,
  roleSchema,
  rolesSchema,
  usernameSchema,
  validateNewUser,
  validateUserUpdate,
} from './validation.js'

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  schema.safeParse(value).success

/** The VALIDATION_ERROR details thrown by `fn`, or undefined when it does not throw one. */
function problemsOf(fn: () => unknown): FieldProblem[] | undefined {
  try {
    fn()
  } catch (error) {
    if (isUsersError(error, 'VALIDATION_ERROR'))
      return (error.details as { fields: FieldProblem[] }).fields
    throw error
  }
  return undefined
}

const USERNAME_CHARS = 'ABCXYZabcxyz0189_.-'
const OTHER_CHARS = ' @!é\u0000\n/+ßİ😀'

describe('usernameSchema', () => {
  it.each(['abc', 'Alice', 'a.b-c_d', '___', 'x'.repeat(32), '0123456789'])('accepts %j', (v) => {
    expect(ok(usernameSchema, v)).toBe(true)
  })

  it.each(['', 'ab', 'x'.repeat(33), 'has space', 'a@b', 'émile', 'abc\n', 'ab😀', 42, null])(
    'rejects %j',
    (v) => {
      expect(ok(usernameSchema, v)).toBe(false)
    },
  )

  it('accepts exactly the strings of 3–32 allowed characters', () => {
    const allowed = new Set(USERNAME_CHARS.split(''))
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...USERNAME_CHARS.split(''), ...Array.from(OTHER_CHARS)),
          maxLength: 40,
        }),
        (s) => {
          const chars = Array.from(s)
          // Allowed characters are all ASCII, so code points and UTF-16 units agree when valid.
          const expected =
            chars.length >= 3 && chars.length <= 32 && chars.every((c) => allowed.has(c))
          expect(ok(usernameSchema, s)).toBe(expected)
        },
      ),
    )
  })
})

describe('emailSchema', () => {
  it.each([
    'a@b.co',
    'alice@example.com',
    'first.last+tag@sub.example.org',
    "o'brien@example.ie",
    'x@xn--p1ai.xn--p1ai',
    'Alice@Example.COM',
  ])('accepts %j', (v) => {
    expect(ok(emailSchema, v)).toBe(true)
  })

  it.each([
    ['empty', ''],
    ['no @', 'alice.example.com'],
    ['space', 'alice smith@example.com'],
    ['space in domain', 'alice@exa mple.com'],
    ['two @', 'a@b@example.com'],
    ['missing TLD', 'alice@localhost'],
    ['one-letter TLD', 'alice@example.c'],
    ['numeric TLD', 'alice@example.123'],
    ['consecutive dots in local', 'a..b@example.com'],
    ['consecutive dots in domain', 'a@example..com'],
    ['leading dot', '.a@example.com'],
    ['trailing dot in local', 'a.@example.com'],
    ['trailing dot in domain', 'a@example.com.'],
    ['hyphen-edged label', 'a@-example.com'],
    ['empty local', '@example.com'],
    ['quoted local', '"a b"@example.com'],
    ['IP literal', 'a@[127.0.0.1]'],
    ['non-ASCII', 'jörg@example.de'],
    ['local over 64', `${'a'.repeat(65)}@example.com`],
    ['not a string', 7],
  ])('rejects %s', (_name, v) => {
    expect(ok(emailSchema, v)).toBe(false)
  })

  it('allows at most 254 characters in all', () => {
    const domain = (n: number) => `${'d'.repeat(n - 4)}.com`
    const label63 = 'l'.repeat(63)
    // 64 + 1 + (63+1)·2 + domain(61) = 254
    const at254 = `${'a'.repeat(64)}@${label63}.${label63}.${domain(61)}`
    expect(at254).toHaveLength(254)
    expect(ok(emailSchema, at254)).toBe(true)
    expect(ok(emailSchema, at254.replace('@', '@x'))).toBe(false)
  })

  it('accepts generated plain addresses and rejects them with a space inserted', () => {
    const word = fc.stringMatching(/^[a-z0-9]{1,10}$/)
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 3 }),
        fc.array(word, { minLength: 1, maxLength: 3 }),
        fc.stringMatching(/^[a-z]{2,6}$/),
        fc.nat(),
        (local, domain, tld, at) => {
          const address = `${local.join('.')}@${domain.join('.')}.${tld}`
          expect(ok(emailSchema, address)).toBe(true)
          const i = at % (address.length + 1)
          expect(ok(emailSchema, `${address.slice(0, i)} ${address.slice(i)}`)).toBe(false)
        },
      ),
    )
  })
})

describe('displayNameSchema', () => {
  it.each(['A', 'Alice Smith', 'Zoë 🎉 & co.', '山田太郎', 'x'.repeat(100), '😀'.repeat(100)])(
    'accepts %j',
    (v) => {
      expect(ok(displayNameSchema, v)).toBe(true)
    },
  )

  it.each([
    ['empty', ''],
    ['over 100', 'x'.repeat(101)],
    ['over 100 code points', '😀'.repeat(101)],
    ['newline', 'a\nb'],
    ['NUL', 'a\u0000'],
    ['DEL', 'a\u007f'],
    ['C1 control', 'a\u0085'],
    ['<', '<script>'],
    ['>', 'a > b'],
    ['not a string', 5],
  ])('rejects %s', (_name, v) => {
    expect(ok(displayNameSchema, v)).toBe(false)
  })
})

describe('roleSchema and rolesSchema', () => {
  it.each(['user', 'admin', 'a', 'sip.operator', 'tenant:42', 'a-b_c', `a${'b'.repeat(63)}`])(
    'accepts role %j',
    (v) => {
      expect(ok(roleSchema, v)).toBe(true)
    },
  )

  it.each(['', 'User', '1admin', '_x', 'a b', 'a/b', `a${'b'.repeat(64)}`, 'é'])(
    'rejects role %j',
    (v) => {
      expect(ok(roleSchema, v)).toBe(false)
    },
  )

  it('accepts exactly the role pattern', () => {
    const chars = 'abz09_.:-A /'.split('')
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...chars), maxLength: 70 }), (s) => {
        const expected =
          s.length >= 1 &&
          s.length <= 64 &&
          /[a-z]/.test(s[0] ?? '') &&
          [...s].every((c) => 'abz09_.:-'.includes(c))
        expect(ok(roleSchema, s)).toBe(expected)
      }),
    )
  })

  it('accepts 0 to 20 distinct roles', () => {
    expect(ok(rolesSchema, [])).toBe(true)
    const twenty = Array.from({ length: 20 }, (_, i) => `r${i}`)
    expect(ok(rolesSchema, twenty)).toBe(true)
    expect(ok(rolesSchema, [...twenty, 'r20'])).toBe(false)
  })

  it('rejects duplicates rather than merging them', () => {
    const result = rolesSchema.safeParse(['user', 'admin', 'user'])
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toContain('user')
  })

  it('rejects non-arrays', () => {
    expect(ok(rolesSchema, 'admin')).toBe(false)
  })
})

describe('permissionSchema and permissionsSchema', () => {
  it.each(['read', 'write', 'delete', 'admin', '*'])('accepts permission %j', (v) => {
    expect(ok(permissionSchema, v)).toBe(true)
  })

  it.each(['Read', 'all', '', 'read ', null])('rejects permission %j', (v) => {
    expect(ok(permissionSchema, v)).toBe(false)
  })

  it('needs at least one permission and no duplicates', () => {
    expect(ok(permissionsSchema, ['read'])).toBe(true)
    expect(ok(permissionsSchema, ['read', 'write', 'delete', 'admin', '*'])).toBe(true)
    expect(ok(permissionsSchema, [])).toBe(false)
    expect(ok(permissionsSchema, ['read', 'read'])).toBe(false)
    expect(ok(permissionsSchema, ['read', 'fly'])).toBe(false)
  })
})

describe('apiKeyNameSchema', () => {
  it.each(['x', 'PBX north', 'integration: CRM (prod) 🚀', 'n'.repeat(100)])('accepts %j', (v) => {
    expect(ok(apiKeyNameSchema, v)).toBe(true)
  })

  it.each(['', 'n'.repeat(101), 'tab\there', 'bell\u0007', 3])('rejects %j', (v) => {
    expect(ok(apiKeyNameSchema, v)).toBe(false)
  })
})

describe('plainTextSchema', () => {
  it('refuses every C0 control (NUL, tab, newline), DEL and every C1 control', () => {
    const controls = [
      ...Array.from({ length: 0x20 }, (_, i) => i),
      0x7f,
      ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
    ]
    for (const cp of controls) {
      expect(ok(plainTextSchema, `a${String.fromCodePoint(cp)}b`), cp.toString(16)).toBe(false)
    }
  })

  it('accepts other text: spaces, non-ASCII letters, emoji, format characters', () => {
    for (const v of ['', 'a b', 'Zoë', '😀👩‍👩‍👧', '\u00a0', '\u200b', '\u2028', '\ufeff']) {
      expect(ok(plainTextSchema, v), JSON.stringify(v)).toBe(true)
    }
  })
})

describe('validateNewUser', () => {
  const good: CreateUserInput = {
    username: 'alice',
    password: 'whatever',
    email: 'alice@example.com',
    displayName: 'Alice',
    roles: ['user'],
  }

  it('returns valid input unchanged', () => {
    expect(validateNewUser(good)).toBe(good)
    expect(validateNewUser({ username: 'bob', password: '' })).toEqual({
      username: 'bob',
      password: '',
    })
    expect(() => validateNewUser({ ...good, email: null, displayName: null })).not.toThrow()
  })

  it('does not judge the password (the policy does)', () => {
    expect(() => validateNewUser({ ...good, password: 'x' })).not.toThrow()
  })

  it('lists every invalid field at once, with wire (snake_case) names', () => {
    const problems = problemsOf(() =>
      validateNewUser({
        username: 'a b',
        password: 'x',
        email: 'not-an-email',
        displayName: '<b>bold</b>',
        roles: ['Admin', 'user', 'user'],
      }),
    )
    expect(problems?.map((p) => p.field)).toEqual(['username', 'email', 'display_name', 'roles'])
    const roles = problems?.find((p) => p.field === 'roles')?.message
    expect(roles).toContain('roles[0]')
    expect(roles).toContain('must not repeat a role: user')
  })

  it('reports wrong types and a missing username', () => {
    const problems = problemsOf(() =>
      validateNewUser({ password: 5, roles: 'admin' } as unknown as CreateUserInput),
    )
    expect(problems?.map((p) => p.field)).toEqual(['username', 'password', 'roles'])
  })

  it('reports a non-object input as the root', () => {
    const problems = problemsOf(() => validateNewUser(null as unknown as CreateUserInput))
    expect(problems?.map((p) => p.field)).toEqual(['(root)'])
  })
})

describe('validateUserUpdate', () => {
  it('accepts an empty update and null clears', () => {
    expect(validateUserUpdate({})).toEqual({})
    const clear: UpdateUserInput = { email: null, displayName: null }
    expect(validateUserUpdate(clear)).toBe(clear)
    expect(() =>
      validateUserUpdate({ email: 'a@b.co', displayName: 'A', active: false, roles: [] }),
    ).not.toThrow()
  })

  it('lists every invalid field at once', () => {
    const problems = problemsOf(() =>
      validateUserUpdate({
        email: 'a@b',
        displayName: 'line\nbreak',
        active: 'yes',
        roles: Array.from({ length: 21 }, (_, i) => `r${i}`),
      } as unknown as UpdateUserInput),
    )
    expect(problems?.map((p) => p.field)).toEqual(['email', 'display_name', 'active', 'roles'])
  })

  it('puts the invalid fields in the error message too', () => {
    try {
      validateUserUpdate({ email: 'nope', displayName: '' })
      expect.unreachable()
    } catch (error) {
      expect(isUsersError(error, 'VALIDATION_ERROR')).toBe(true)
      expect((error as Error).message).toBe('Invalid email, display_name.')
    }
  })
})
