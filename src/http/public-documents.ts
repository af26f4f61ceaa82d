import { createHash } from 'node:crypto'
import type { Config } from '../config/schema.js'
import type { PublicJwk, UsersCore } from '../types.js'

/** SPEC §4.2: validators may cache the key set for five minutes. */
export const JWKS_CACHE_CONTROL = 'public, max-age=300'

/** A serialised public document, the strong ETag of its bytes and its response headers. */
export interface PublicDocument {
  body: string
  etag: string
  headers: Readonly<Record<string, string>>
}

/** The documents anyone may fetch: the JWKS and the OpenID discovery document. */
export interface PublicDocuments {
  /** Serialised again only when the key set changes, never per request. */
  jwks(): Promise<PublicDocument>
  /** Built once: it depends on the configuration only. */
  discovery(): PublicDocument
}

function documentOf(value: unknown): PublicDocument {
  const body = JSON.stringify(value)
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`
  return {
    body,
    etag,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': JWKS_CACHE_CONTROL,
      ETag: etag,
    },
  }
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
  // A kid is its key's thumbprint, never reused: the same kids are the same key set.
  let jwks: { kids: string; document: PublicDocument } | undefined
  const kidsOf = (keys: readonly PublicJwk[]) => keys.map((k) => k.kid).join(' ')
  return {
    async jwks() {
      const set = await core.jwks()
      const kids = kidsOf(set.keys)
      if (jwks?.kids !== kids) jwks = { kids, document: documentOf(set) }
      return jwks.document
    },
    discovery: () => discovery,
  }
}
