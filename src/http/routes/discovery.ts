import type { Context } from 'hono'
import { etag, RETAINED_304_HEADERS } from 'hono/etag'
import type { AppEnv } from '../context.js'
import type { PublicDocument, PublicDocuments } from '../public-documents.js'
import type { App } from './deps.js'

// A 304 keeps what the outer middleware set before the route ran (the security headers and
// `Vary` are set after it, on the 304 itself).
const RETAINED = [
  ...RETAINED_304_HEADERS,
  'x-request-id',
  'strict-transport-security',
  'access-control-allow-origin',
  'access-control-expose-headers',
]

/** A public document with its prepared ETag; hono/etag answers a matching `If-None-Match` 304. */
function cacheable(c: Context<AppEnv>, document: PublicDocument): Response {
  return c.body(document.body, 200, document.headers)
}

/** JWKS (both paths) and the OpenID discovery document. */
export function registerDiscoveryRoutes(app: App, documents: PublicDocuments): void {
  const notModified = etag({ retainedHeaders: RETAINED })
  const jwks = async (c: Context<AppEnv>) => cacheable(c, await documents.jwks())
  app.get('/auth/jwks.json', notModified, jwks)
  app.get('/.well-known/jwks.json', notModified, jwks)
  app.get('/.well-known/openid-configuration', notModified, (c) =>
    cacheable(c, documents.discovery()),
  )
}
