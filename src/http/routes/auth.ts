import type { Context } from 'hono'
import { UsersError } from '../../errors.js'
import { overloaded } from '../../passwords/hasher.js'
import type { UsersCore } from '../../types.js'
import { authorizeAuthenticated } from '../authz.js'
import type { AppEnv } from '../context.js'
import { preparedErrorResponse } from '../middleware/error-handler.js'
import { ipKey, rateLimit } from '../middleware/rate-limit.js'
import { introspectBody, loginBody, logoutBody, refreshBody } from '../schemas.js'
import { apiKeyTokenToWire, tokenResponseToWire } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import { enforce, jsonBody, jsonOrFormBody, requestContext, requirePrincipal } from './input.js'

// RFC 6749 §5.1: token responses must not be cached anywhere.
function tokenJson(c: Context<AppEnv>, body: object): Response {
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
  return c.json(body, 200)
}

/**
 * The first handler of `POST /auth/login`, registered before the body is read or any budget is
 * spent: while every hash slot is busy and the queue is full, 503 OVERLOADED at once from one
 * prepared answer — under a flood each refusal must cost next to nothing, or the flood alone
 * starves every other route (SPEC §6.3).
 */
export function registerLoginRefusal(app: App, core: UsersCore): void {
  const { max_concurrent_hashes: slots, max_queued_hashes: queue } = core.config.password
  const refusal = preparedErrorResponse(overloaded())
  app.post('/auth/login', (c, next) => {
    const { active, queued } = core.hashPoolStats()
    return active >= slots && queued >= queue ? refusal(c) : next()
  })
}

/** `/auth/*`: login, refresh, API-key exchange, logout, introspection (SPEC §6.2). */
export function registerAuthRoutes(app: App, { core, limiter }: RouteDeps): void {
  // SPEC §2 login_requests_per_minute, per client IP, on top of the general budget.
  if (limiter) app.post('/auth/login', rateLimit({ limiter: limiter.login, key: ipKey }))

  app.post('/auth/login', async (c) => {
    const body = jsonBody(c, loginBody)
    const token = await core.authenticatePassword(body.username, body.password, requestContext(c))
    return tokenJson(c, tokenResponseToWire(token))
  })

  app.post('/auth/refresh', async (c) => {
    const body = jsonBody(c, refreshBody)
    const token = await core.refreshToken(body.refresh_token, requestContext(c))
    return tokenJson(c, tokenResponseToWire(token))
  })

  // No body: the API key in the headers is the whole request.
  app.post('/auth/api-key/token', async (c) => {
    const principal = requirePrincipal(c)
    const credential = c.get('credential')
    if (principal.kind !== 'api_key' || credential === undefined) {
      throw new UsersError('UNAUTHORIZED', { message: 'This route takes an API key.' })
    }
    const token = await core.apiKeys.exchange(credential, requestContext(c))
    return tokenJson(c, apiKeyTokenToWire(token))
  })

  // An access token's own session; an API key has none (revoke the key instead).
  app.post('/auth/logout', async (c) => {
    const principal = requirePrincipal(c)
    // Logout revokes (all_sessions: every session of the owner): a write, so a token exchanged
    // from a read-only key may not do it (SPEC §5).
    enforce(authorizeAuthenticated(principal, c.req.method))
    if (principal.kind !== 'access_token') {
      throw new UsersError('FORBIDDEN', {
        message: 'Logout needs an access token; revoke an API key with DELETE /api-keys/{id}.',
      })
    }
    const body = jsonBody(c, logoutBody)
    await core.logout(
      principal,
      body.all_sessions === undefined ? {} : { allSessions: body.all_sessions },
      requestContext(c),
    )
    return c.body(null, 204)
  })

  app.post('/auth/introspect', async (c) => {
    requirePrincipal(c)
    const body = jsonOrFormBody(c, introspectBody)
    return c.json(await core.introspect(body.token), 200)
  })
}
