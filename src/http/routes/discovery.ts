import type { Context } from 'hono'
import type { AppEnv } from '../context.js'
import {
  JWKS_CACHE_CONTROL,
  matchesIfNoneMatch,
  type PublicDocument,
  type PublicDocuments,
} from '../public-documents.js'
import type { App } from './deps.js'

/** A public document with its ETag, answering 304 to a matching `If-None-Match`. */
function cacheable(c: Context<AppEnv>, { body, etag }: PublicDocument): Response {
  const headers = { 'Cache-Control': JWKS_CACHE_CONTROL, ETag: etag }
  if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers)
  return c.body(body, 200, { ...headers, 'Content-Type': 'application/json' })
}

/**
 * JWKS (both paths) and the OpenID discovery document. The server answers these before the
 * middleware chain (`edge.ts`) from the same documents; these routes serve `app.request()` and
 * the requests the edge hands on.
 */
export function registerDiscoveryRoutes(app: App, documents: PublicDocuments): void {
  const jwks = (c: Context<AppEnv>) => cacheable(c, documents.jwks())
  app.get('/auth/jwks.json', jwks)
  app.get('/.well-known/jwks.json', jwks)
  app.get('/.well-known/openid-configuration', (c) => cacheable(c, documents.discovery()))
}
