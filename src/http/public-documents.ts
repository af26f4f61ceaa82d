import { createHash } from 'node:crypto'
import type { Config } from '../config.js'
import type { UsersCore } from '../types.js'

/** SPEC §4.2: validators may cache the key set for five minutes. */
export const JWKS_CACHE_CONTROL = 'public, max-age=300'

/** A serialised public document and the strong ETag of its bytes. */
export interface PublicDocument {
  body: string
  etag: string
}

/** The documents anyone may fetch: the JWKS and the OpenID discovery document. */
export interface PublicDocuments {
  /** Re-serialised by the keyring when the key set changes, never per request. */
  jwks(): PublicDocument
  /** Built once: it depends on the configuration only. */
  discovery(): PublicDocument
}

/** RFC 9110 §13.1.2: weak comparison, a list of tags, or `*`. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

function documentOf(value: unknown): PublicDocument {
  const body = JSON.stringify(value)
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
  return { body, etag }
}

/** The public documents of one app (`config.public_url` as the app sees it). */
export function createPublicDocuments(core: UsersCore, config: Config): PublicDocuments {
  const base = config.public_url
  const roleScopes = Object.values(config.jwt.role_scopes).flat()
  // Only what users-core really offers: no authorization or OAuth token endpoint, no id tokens
  // issued yet, but validators read the signing algorithm from here.
  const discovery = documentOf({
    issuer: config.jwt.issuer,
    jwks_uri: `${base}/.well-known/jwks.json`,
    introspection_endpoint: `${base}/auth/introspect`,
    id_token_signing_alg_values_supported: [config.jwt.algorithm],
    subject_types_supported: ['public'],
    scopes_supported: [...new Set([...config.jwt.base_scopes, ...roleScopes])],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'nbf',
      'jti',
      'username',
      'email',
      'roles',
      'scope',
      'sid',
    ],
    ...(config.api.docs_enabled ? { service_documentation: `${base}/docs` } : {}),
  })
  return { jwks: () => core.jwksDocument(), discovery: () => discovery }
}
