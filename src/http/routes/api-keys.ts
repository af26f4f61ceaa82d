import { UsersError } from '../../errors.js'
import { authorizeSelfOrAdmin, isAdmin } from '../authz.js'
import { createApiKeyBody } from '../schemas.js'
import { apiKeyInfoToWire } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import { enforce, jsonBody, pathId, requestContext, requirePrincipal } from './input.js'

/** `/users/:id/api-keys` and `/api-keys/:id` (SPEC §5, §6.2). */
export function registerApiKeyRoutes(app: App, { core }: RouteDeps): void {
  const requireUser = async (id: string) => {
    if (!(await core.users.get(id))) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
  }

  app.post('/users/:id/api-keys', async (c) => {
    const principal = requirePrincipal(c)
    enforce(authorizeSelfOrAdmin(principal, c.req.method, c.req.param('id')))
    const body = jsonBody(c, createApiKeyBody)
    // The core refuses permissions the caller (ctx.actor) lacks: SPEC §5.
    const userId = pathId(c, 'id')
    await requireUser(userId)
    const created = await core.apiKeys.create(
      {
        userId,
        name: body.name,
        permissions: body.permissions,
        ...(body.expires_at === undefined ? {} : { expiresAt: body.expires_at }),
      },
      requestContext(c),
    )
    return c.json({ key: created.key, key_info: apiKeyInfoToWire(created.apiKey) }, 201)
  })

  app.get('/users/:id/api-keys', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    const userId = pathId(c, 'id')
    await requireUser(userId)
    return c.json((await core.apiKeys.list(userId)).map(apiKeyInfoToWire), 200)
  })

  // Someone else's key answers 404 like a missing one: a non-admin cannot know it exists.
  app.delete('/api-keys/:id', async (c) => {
    const principal = requirePrincipal(c)
    enforce(authorizeSelfOrAdmin(principal, c.req.method, principal.user.id))
    const key = await core.apiKeys.get(pathId(c, 'id'))
    if (!key || (key.userId !== principal.user.id && !isAdmin(principal))) {
      throw new UsersError('NOT_FOUND', { message: 'No such API key.' })
    }
    await core.apiKeys.revoke(key.id, requestContext(c))
    return c.body(null, 204)
  })
}
