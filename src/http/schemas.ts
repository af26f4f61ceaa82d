// Request bodies and query strings, parsed at the edge (STYLE habit 4). Shapes and types only: the
// domain rules (username syntax, password policy, role names) live in the core, which names them.
// Every string is `text` (no control characters) except passwords, which are only ever hashed.
import { z } from 'zod'
import { plainTextSchema as text } from '../users/validation.js'

const permission = z.enum(['read', 'write', 'delete', 'admin', 'sip', '*'])
const nullableText = text.nullable()
// Any character may be part of a secret; NUL included, it is never stored, logged or queried.
const password = z.string()
const rfc3339 = z.iso.datetime({ offset: true, message: 'expected an RFC 3339 timestamp' })

/** `POST /auth/login`. */
export const loginBody = z.strictObject({ username: text, password })

/** `POST /auth/refresh`. */
export const refreshBody = z.strictObject({ refresh_token: text })

/** `POST /auth/logout` (the body is optional). */
export const logoutBody = z.strictObject({ all_sessions: z.boolean().optional() })

/** `POST /auth/introspect` (RFC 7662 §2.1: `token`, optional `token_type_hint`). */
export const introspectBody = z.strictObject({
  token: text,
  token_type_hint: text.optional(),
})

/** `POST /users`. */
export const createUserBody = z.strictObject({
  username: text,
  password,
  email: nullableText.optional(),
  display_name: nullableText.optional(),
  roles: z.array(text).optional(),
})

/** `PUT /users/:id`; `null` clears email / display_name. */
export const updateUserBody = z.strictObject({
  email: nullableText.optional(),
  display_name: nullableText.optional(),
  active: z.boolean().optional(),
  roles: z.array(text).optional(),
})

/** `POST /users/:id/password`. */
export const passwordBody = z.strictObject({
  old_password: password.optional(),
  new_password: password,
  revoke_api_keys: z.boolean().optional(),
})

/** `POST /users/:id/roles`. */
export const rolesBody = z.strictObject({ roles: z.array(text) })

/** `POST /users/:id/api-keys`. */
export const createApiKeyBody = z.strictObject({
  name: text.trim().min(1).max(100),
  permissions: z
    .array(permission)
    .min(1)
    .transform((ps) => [...new Set(ps)]),
  expires_at: rfc3339
    .transform((s) => new Date(s))
    .refine((d) => d.getTime() > Date.now(), 'must be in the future')
    .nullable()
    .optional(),
})

const limit = z
  .string()
  .regex(/^\d+$/, 'expected an integer')
  .transform(Number)
  .pipe(z.number().int().min(1).max(1000))
const offset = z
  .string()
  .regex(/^\d+$/, 'expected an integer')
  .transform(Number)
  .pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
const bool = z.enum(['true', 'false']).transform((v) => v === 'true')

/** `GET /users` query. */
export const usersQuery = z.strictObject({
  search: text.max(256).optional(),
  active: bool.optional(),
  role: text.max(64).optional(),
  limit: limit.optional(),
  offset: offset.optional(),
})

/** `GET /audit-events` query. */
export const auditQuery = z.strictObject({
  user_id: z.uuid().optional(),
  type: text.max(64).optional(),
  since: rfc3339.transform((s) => new Date(s)).optional(),
  until: rfc3339.transform((s) => new Date(s)).optional(),
  limit: limit.optional(),
  offset: offset.optional(),
})

/** Default page size of list routes (SPEC §6.2). */
export const DEFAULT_PAGE_SIZE = 50

/** Ids in paths are UUIDs; anything else cannot name a resource. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A body that must be empty or `{}` (routes whose path says everything). */
export const emptyBody = z.strictObject({})

// WebAuthn responses as browsers serialise them (PublicKeyCredential.toJSON()): base64url
// fields; members this service does not read are dropped, not refused, as browsers add some.
const base64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, 'expected base64url')
const credentialBase = {
  id: base64url.min(1).max(1024),
  rawId: base64url.min(1).max(1024),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).nullable().optional(),
}

/** `POST /users/:id/mfa/totp/confirm`. */
export const totpConfirmBody = z.strictObject({ code: text.max(64) })

/** `POST /users/:id/mfa/webauthn`: the registration response and an optional label. */
export const webauthnRegistrationBody = z.strictObject({
  name: text.trim().min(1).max(64).nullable().optional(),
  response: z.object({
    ...credentialBase,
    response: z.object({
      clientDataJSON: base64url,
      attestationObject: base64url,
      transports: z.array(text.max(32)).max(10).optional(),
    }),
  }),
})

const webauthnAssertion = z.object({
  ...credentialBase,
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.nullable().optional(),
  }),
})

/** `POST /auth/mfa/verify`: the `mfa_token` of the MFA_REQUIRED answer and one factor. */
export const mfaVerifyBody = z.discriminatedUnion('method', [
  z.strictObject({
    mfa_token: text.max(128),
    method: z.enum(['totp', 'recovery_code']),
    code: text.max(64),
  }),
  z.strictObject({
    mfa_token: text.max(128),
    method: z.literal('webauthn'),
    assertion: webauthnAssertion,
  }),
])
