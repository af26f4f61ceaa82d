import { UsersError } from '../../errors.js'
import { derivedOfFrozen } from '../../lib/freeze.js'
import type { UpdateUserInput, User } from '../../types.js'
import {
  authorizeAdmin,
  authorizeAuthenticated,
  authorizeSelfOrAdmin,
  forbiddenUpdateFields,
} from '../authz.js'
import { ipKey } from '../middleware/rate-limit.js'
import {
  createUserBody,
  DEFAULT_PAGE_SIZE,
  passwordBody,
  rolesBody,
  updateUserBody,
  usersQuery,
} from '../schemas.js'
import { userToWire } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import {
  enforce,
  jsonBody,
  pathId,
  query,
  requestContext,
  requirePrincipal,
  setPageHeaders,
} from './input.js'

/**
 * `/users/me` bodies of shared (frozen) users: while a cached credential's user is unchanged,
 * every request answers the same bytes, so they are serialised once.
 */
const meBodyOf = derivedOfFrozen((user: User) => JSON.stringify(userToWire(user)))
const JSON_TYPE = { 'Content-Type': 'application/json' }

/** `/users` and `/users/:id` (SPEC §6.2). */
export function registerUserRoutes(app: App, { core, config, limiter }: RouteDeps): void {
  const getUser = async (id: string) => {
    const user = await core.users.get(id)
    if (!user) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
    return user
  }

  app.post('/users', async (c) => {
    enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    const body = jsonBody(c, createUserBody)
    const user = await core.createUser(
      {
        username: body.username,
        password: body.password,
        ...(body.email === undefined ? {} : { email: body.email }),
        ...(body.display_name === undefined ? {} : { displayName: body.display_name }),
        ...(body.roles === undefined ? {} : { roles: body.roles }),
      },
      requestContext(c),
    )
    c.header('Location', `${config.public_url}/users/${user.id}`)
    return c.json(userToWire(user), 201)
  })

  app.get('/users', async (c) => {
    enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    const q = query(c, usersQuery)
    const limit = q.limit ?? DEFAULT_PAGE_SIZE
    const offset = q.offset ?? 0
    const page = await core.users.list({
      limit,
      offset,
      ...(q.search === undefined ? {} : { search: q.search }),
      ...(q.active === undefined ? {} : { active: q.active }),
      ...(q.role === undefined ? {} : { role: q.role }),
    })
    setPageHeaders(c, config.public_url, { total: page.total, offset, count: page.items.length })
    return c.json(page.items.map(userToWire), 200)
  })

  // Registered before /users/:id so that "me" is never taken for an id.
  app.get('/users/me', async (c) => {
    const principal = requirePrincipal(c)
    enforce(authorizeAuthenticated(principal, c.req.method))
    return c.body(meBodyOf(principal.user), 200, JSON_TYPE)
  })

  app.get('/users/:id', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    return c.json(userToWire(await getUser(pathId(c, 'id'))), 200)
  })

  app.put('/users/:id', async (c) => {
    const principal = requirePrincipal(c)
    const as = enforce(authorizeSelfOrAdmin(principal, c.req.method, c.req.param('id')))
    const body = jsonBody(c, updateUserBody)
    const forbidden = forbiddenUpdateFields(as === 'admin' ? 'admin' : 'self', Object.keys(body))
    if (forbidden.length > 0) {
      throw new UsersError('FORBIDDEN', {
        message: `Only an admin may change: ${forbidden.join(', ')}.`,
        details: { fields: forbidden },
      })
    }
    const id = pathId(c, 'id')
    const input: UpdateUserInput = {
      ...(body.email === undefined ? {} : { email: body.email }),
      ...(body.display_name === undefined ? {} : { displayName: body.display_name }),
      ...(body.active === undefined ? {} : { active: body.active }),
      ...(body.roles === undefined ? {} : { roles: body.roles }),
    }
    return c.json(userToWire(await core.users.update(id, input, requestContext(c))), 200)
  })

  app.delete('/users/:id', async (c) => {
    enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    await core.users.delete(pathId(c, 'id'), requestContext(c))
    return c.body(null, 204)
  })

  // Self changes with the old password; an admin resets without one (but if an admin sends an
  // old password for their own account, it is checked like anyone's).
  app.post('/users/:id/password', async (c) => {
    const principal = requirePrincipal(c)
    const as = enforce(authorizeSelfOrAdmin(principal, c.req.method, c.req.param('id')))
    const body = jsonBody(c, passwordBody)
    const id = pathId(c, 'id')
    const self = principal.user.id === id
    const options = { revokeApiKeys: body.revoke_api_keys === true }
    if (as !== 'admin' || (self && body.old_password !== undefined)) {
      if (body.old_password === undefined) {
        throw new UsersError('VALIDATION_ERROR', {
          message: 'Invalid request body.',
          details: { fields: [{ field: 'old_password', message: 'is required' }] },
        })
      }
      if (limiter) {
        // The login budget of this IP (SPEC §2): an old-password check is a login attempt.
        const decision = await limiter.login.consume(ipKey(c))
        if (!decision.allowed) {
          throw new UsersError('RATE_LIMITED', { retryAfterSeconds: decision.retryAfterSeconds })
        }
      }
      await core.users.changePassword(
        id,
        body.old_password,
        body.new_password,
        requestContext(c),
        options,
      )
    } else {
      await core.users.resetPassword(id, body.new_password, requestContext(c), options)
    }
    return c.body(null, 204)
  })

  app.post('/users/:id/roles', async (c) => {
    enforce(authorizeAdmin(requirePrincipal(c), c.req.method))
    const body = jsonBody(c, rolesBody)
    const user = await core.users.setRoles(pathId(c, 'id'), body.roles, requestContext(c))
    return c.json(userToWire(user), 200)
  })
}
