import { authorizeAdmin } from '../authz.js'
import { auditQuery, DEFAULT_PAGE_SIZE } from '../schemas.js'
import { auditEventToWire } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import { enforce, query, requestContext, requirePrincipal, setPageHeaders } from './input.js'

/** `POST /admin/keys/rotate` and `GET /audit-events` (SPEC §6.2). */
export function registerAdminRoutes(app: App, { core, config }: RouteDeps): void {
  app.post('/admin/keys/rotate', async (c) => {
    enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    return c.json(await core.keys.rotate(requestContext(c)), 200)
  })

  app.get('/audit-events', async (c) => {
    enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    const q = query(c, auditQuery)
    const limit = q.limit ?? DEFAULT_PAGE_SIZE
    const offset = q.offset ?? 0
    const page = await core.audit.list({
      limit,
      offset,
      ...(q.user_id === undefined ? {} : { userId: q.user_id }),
      ...(q.type === undefined ? {} : { type: q.type }),
      ...(q.since === undefined ? {} : { since: q.since }),
      ...(q.until === undefined ? {} : { until: q.until }),
    })
    setPageHeaders(c, config.public_url, { total: page.total, offset, count: page.items.length })
    return c.json(page.items.map(auditEventToWire), 200)
  })
}
