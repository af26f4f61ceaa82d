import { z } from 'zod'
import type { ApiKeyPermission } from '../domain/records.js'
import { UsersError } from '../errors.js'
import type { CreateUserInput, UpdateUserInput } from '../types.js'

// Account field rules of SPEC §3, shared by the core and the HTTP layer so both say the same.

function countCodePoints(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}

/** Unicode category Cc: the C0 controls (NUL to U+001F, so tab and newline too), DEL and C1. */
export const CONTROL_CHARACTER = /\p{Cc}/u

/**
 * A string without control characters. Every text field of a request is one (passwords
 * excepted): no stored, searched or compared text holds a NUL, an escape or a line break.
 */
export const plainTextSchema = z
  .string()
  .refine((v) => !CONTROL_CHARACTER.test(v), { error: 'must not contain control characters' })

/** 3–32 characters of `A-Z a-z 0-9 _ . -` (SPEC §3). */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/

/** A username as stored; uniqueness (case-insensitive) is the store's job. */
export const usernameSchema = z.string().regex(USERNAME_PATTERN, {
  error: 'must be 3 to 32 characters of A-Z, a-z, 0-9, _, . and -',
})

// A deliberately plain address: a dot-atom local part (RFC 5322 atext, no leading, trailing or
// doubled dots, at most 64 characters), then a DNS host name of at least two labels whose last
// label (the TLD) is letters or an xn-- A-label. No quoted local parts, IP literals, comments or
// non-ASCII (internationalised) addresses.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const TLD = '(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})'
const EMAIL_PATTERN = new RegExp(`^(?=[^@]{1,64}@)${ATEXT}(?:\\.${ATEXT})*@(?:${LABEL}\\.)+${TLD}$`)

/** A plain `local@domain.tld` address of at most 254 characters (SPEC §3), stored as given. */
export const emailSchema = z
  .string()
  .max(254, { error: 'must be at most 254 characters' })
  .regex(EMAIL_PATTERN, { error: 'must be a plain address like name@example.com' })

/**
 * A display name: 1–100 characters, no control characters, no `<` or `>` (rejected rather than
 * stripped, SPEC §3). Use `null`, not an empty string, to clear it.
 */
export const displayNameSchema = z
  .string()
  .min(1, { error: 'must not be empty (use null to clear it)' })
  .refine((v) => countCodePoints(v) <= 100, { error: 'must be at most 100 characters' })
  .refine((v) => !CONTROL_CHARACTER.test(v), { error: 'must not contain control characters' })
  .refine((v) => !/[<>]/.test(v), { error: 'must not contain < or >' })

/** A role name: `^[a-z][a-z0-9_.:-]{0,63}$` (SPEC §3). */
export const roleSchema = z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, {
  error: 'must start with a-z and hold at most 64 characters of a-z, 0-9, _, ., : and -',
})

function duplicatesOf(values: readonly string[]): string[] {
  const seen = new Set<string>()
  const duplicates = new Set<string>()
  for (const v of values) {
    if (seen.has(v)) duplicates.add(v)
    seen.add(v)
  }
  return [...duplicates]
}

/**
 * 0–20 distinct role names. Duplicates are rejected, not silently merged, so the value stored is
 * exactly the value sent.
 */
export const rolesSchema = z
  .array(roleSchema)
  .max(20, { error: 'must hold at most 20 roles' })
  .superRefine((roles, ctx) => {
    const duplicates = duplicatesOf(roles)
    if (duplicates.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must not repeat a role: ${duplicates.join(', ')}` })
    }
  })

/** An API-key permission (SPEC §5). */
export const permissionSchema = z.enum(['read', 'write', 'delete', 'admin', 'sip', '*'] as const, {
  error: 'must be one of read, write, delete, admin, *',
}) satisfies z.ZodType<ApiKeyPermission>

/** At least one distinct API-key permission; duplicates are rejected like duplicate roles. */
export const permissionsSchema = z
  .array(permissionSchema)
  .min(1, { error: 'must hold at least one permission' })
  .superRefine((permissions, ctx) => {
    const duplicates = duplicatesOf(permissions)
    if (duplicates.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must not repeat a permission: ${duplicates.join(', ')}`,
      })
    }
  })

/** An API-key name: 1–100 characters without control characters. */
export const apiKeyNameSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .refine((v) => countCodePoints(v) <= 100, { error: 'must be at most 100 characters' })
  .refine((v) => !CONTROL_CHARACTER.test(v), { error: 'must not contain control characters' })

/** One invalid field of a VALIDATION_ERROR, named as on the wire (snake_case). */
export interface FieldProblem {
  field: string
  message: string
}

// The password is only type-checked here; its content is the password policy's business.
const newUserSchema = z.object({
  username: usernameSchema,
  password: z.string({ error: 'must be a string' }),
  email: emailSchema.nullable().optional(),
  displayName: displayNameSchema.nullable().optional(),
  roles: rolesSchema.optional(),
})

const userUpdateSchema = z.object({
  email: emailSchema.nullable().optional(),
  displayName: displayNameSchema.nullable().optional(),
  active: z.boolean({ error: 'must be true or false' }).optional(),
  roles: rolesSchema.optional(),
})

const WIRE_NAMES: ReadonlyMap<string, string> = new Map([['displayName', 'display_name']])

/** Groups zod issues by top-level field, one entry per field with every message for it. */
function fieldProblems(error: z.ZodError): FieldProblem[] {
  const byField = new Map<string, string[]>()
  for (const issue of error.issues) {
    const [head, ...rest] = issue.path
    const field = head === undefined ? '(root)' : (WIRE_NAMES.get(String(head)) ?? String(head))
    const where = rest.map((p) => `[${String(p)}]`).join('')
    const message = where ? `${field}${where}: ${issue.message}` : issue.message
    const messages = byField.get(field) ?? []
    messages.push(message)
    byField.set(field, messages)
  }
  return [...byField].map(([field, messages]) => ({ field, message: messages.join('; ') }))
}

function invalid(problems: FieldProblem[]): UsersError {
  return new UsersError('VALIDATION_ERROR', {
    message: `Invalid ${problems.map((p) => p.field).join(', ')}.`,
    details: { fields: problems },
  })
}

/**
 * Checks the account fields of a new user (not the password's strength) and returns the input
 * unchanged; throws VALIDATION_ERROR whose details list every invalid field at once.
 */
export function validateNewUser(input: CreateUserInput): CreateUserInput {
  const result = newUserSchema.safeParse(input)
  if (!result.success) throw invalid(fieldProblems(result.error))
  return input
}

/**
 * Checks the fields of a user update and returns the input unchanged; throws VALIDATION_ERROR
 * whose details list every invalid field at once. `null` clears email and display name.
 */
export function validateUserUpdate(input: UpdateUserInput): UpdateUserInput {
  const result = userUpdateSchema.safeParse(input)
  if (!result.success) throw invalid(fieldProblems(result.error))
  return input
}
