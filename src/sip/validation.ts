import { z } from 'zod'
import { UsersError } from '../errors.js'
import { DIGEST_ALGORITHMS, HA1_ALGORITHMS } from './digest.js'

// Every field of a digest arrives from a phone through a registrar: bounded, and free of what
// could end a quoted string or a header line (quotes, backslashes, control characters).

/** SPEC §11: 3–64 characters of `A-Za-z0-9_.-`. */
export const SIP_USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,64}$/

/** A digest field: printable, no quote or backslash, at most `max` characters. */
const digestText = (max: number) =>
  z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[^"\\\p{Cc}]*$/u, {
      error: 'must not contain quotes, backslashes or control characters',
    })

/** A credential's label: 1–64 characters, no control characters, trimmed. */
export const sipLabelSchema = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(64, { error: 'must be at most 64 characters' })
  .regex(/^\P{Cc}*$/u, { error: 'must not contain control characters' })

/** A SIP username as stored. */
export const sipUsernameSchema = z
  .string()
  .regex(SIP_USERNAME_PATTERN, { error: 'must be 3 to 64 characters of A-Z a-z 0-9 _ . -' })

/** The fields of a digest check, shared by the library and the REST body. */
export const sipDigestFields = {
  // A SIP username, or `sip_username@realm` for the ha1b variant.
  username: digestText(64 + 1 + 128),
  realm: digestText(128),
  method: z.string().regex(/^[A-Za-z]{1,32}$/, { error: 'must be a SIP method name' }),
  uri: digestText(1024),
  nonce: digestText(256),
  response: z
    .string()
    .regex(/^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/, { error: 'must be 32 or 64 hex digits' }),
  algorithm: z
    .enum(DIGEST_ALGORITHMS, {
      error: `must be one of ${DIGEST_ALGORITHMS.join(', ')}`,
    })
    .optional(),
  // auth-int digests the body, which a registrar does not forward: refused like any other value.
  qop: z.enum(['auth'], { error: 'must be auth' }).optional(),
  nc: z
    .string()
    .regex(/^[0-9a-fA-F]{8}$/, { error: 'must be 8 hex digits' })
    .optional(),
  cnonce: digestText(256).optional(),
  sourceIp: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address' }).optional(),
}

/** A digest check as the service takes it, with the pairings RFC 7616 requires. */
export const sipDigestInputSchema = z.strictObject(sipDigestFields).superRefine((v, ctx) => {
  if (v.qop !== undefined) {
    if (v.nc === undefined)
      ctx.addIssue({ code: 'custom', path: ['nc'], message: 'is required with qop' })
    if (v.cnonce === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cnonce'], message: 'is required with qop' })
    }
  }
  if (v.algorithm?.endsWith('-sess') && v.cnonce === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['cnonce'],
      message: 'is required with a -sess algorithm',
    })
  }
})

/** `GET /sip/ha1` as the service takes it. */
export const sipHa1QuerySchema = z.strictObject({
  username: sipDigestFields.username,
  realm: sipDigestFields.realm,
  algorithm: z
    .enum(HA1_ALGORITHMS, { error: `must be one of ${HA1_ALGORITHMS.join(', ')}` })
    .optional(),
})

const WIRE_NAMES: ReadonlyMap<string, string> = new Map([
  ['sourceIp', 'source_ip'],
  ['sipUsername', 'sip_username'],
  ['userId', 'user_id'],
])

/** `input` parsed by `schema`, or VALIDATION_ERROR naming every invalid field (REST names). */
export function parseSipInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const fields = result.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [String(issue.path[0] ?? '')]
    return keys.map((key) => ({
      field: WIRE_NAMES.get(key) ?? (key || '(body)'),
      message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
    }))
  })
  throw new UsersError('VALIDATION_ERROR', {
    message: `Invalid ${[...new Set(fields.map((f) => f.field))].join(', ')}.`,
    details: { fields },
  })
}
