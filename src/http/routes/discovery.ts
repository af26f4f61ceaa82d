import { createHash } from 'node:crypto'
import type { Context } from 'hono'
import type { AppEnv } from '../context.js'
import type { App, RouteDeps } from './deps.js'

/** SPEC §4.2: validators may cache the key set for five minutes. */
export const JWKS_CACHE_CONTROL = 'public, max-age=300'

/** RFC 9110 §13.1.2: weak comparison, a list of tags, or `*`. */
function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

/** JSON with a strong ETag of its bytes, answering 304 to a matching `If-None-Match`. */
function cacheableJson(c: Context<AppEnv>, value: unknown): Response {
  const text = JSON.stringify(value)
  return cacheableText(
    c,
    text,
    `"${createHash('sha256').update(text).digest('base64url').slice(0, 32)}"`,
  )
}

/** Serialised JSON and its ETag, answering 304 to a matching `If-None-Match`. */
function cacheableText(c: Context<AppEnv>, text: string, etag: string): Response {
  const headers = { 'Cache-Control': JWKS_CACHE_CONTROL, ETag: etag }
  if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers)
  return c.body(text, 200, { ...headers, 'Content-Type': 'application/json' })
}

/** JWKS (both paths) and the OpenID discovery document. */
export function registerDiscoveryRoutes(app: App, { core, config }: RouteDeps): void {
  // Serialised once per key-set change by the keyring, not per request.
  const jwks = (c: Context<AppEnv>) => {
    const { body, etag } = core.jwksDocument()
    return cacheableText(c, body, etag)
  }
  app.get('/auth/jwks.json', jwks)
  app.get('/.well-known/jwks.json', jwks)

  // Only what users-core really offers: no authorization or OAuth token endpoint, no id tokens
  // issued yet, but validators read the signing algorithm from here.
  app.get('/.well-known/openid-configuration', (c) => {
    const base = config.public_url
    const roleScopes = Object.values(config.jwt.role_scopes).flat()
    return cacheableJson(c, {
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
  })
}
