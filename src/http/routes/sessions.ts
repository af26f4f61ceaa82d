import { UsersError } from '../../errors.js'
import { authorizeSelfOrAdmin } from '../authz.js'
import { sessionToWire } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import { enforce, pathId, requestContext, requirePrincipal } from './input.js'

/** `/users/:id/sessions` (SPEC §6.2). */
export function registerSessionRoutes(app: App, { core }: RouteDeps): void {
  app.get('/users/:id/sessions', async (c) => {
    const principal = requirePrincipal(c)
    enforce(authorizeSelfOrAdmin(principal, c.req.method, c.req.param('id')))
    const id = pathId(c, 'id')
    if (!(await core.users.get(id))) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    const current = principal.user.id === id ? principal.sessionId : undefined
    const sessions = await core.sessions.list(id, current)
    return c.json(sessions.map(sessionToWire), 200)
  })

  app.delete('/users/:id/sessions/:sid', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    await core.sessions.revoke(pathId(c, 'id'), pathId(c, 'sid'), requestContext(c))
    return c.body(null, 204)
  })
}
