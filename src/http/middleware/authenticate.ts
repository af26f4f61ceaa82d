import type { MiddlewareHandler } from 'hono'
import { UsersError } from '../../errors.js'
import type { Principal, UsersCore } from '../../types.js'
import type { AppEnv } from '../context.js'

const BEARER = /^Bearer +(\S+) *$/i

/**
 * Resolves `Authorization: Bearer <access token or API key>` (preferred) or `X-API-Key: <key>` to
 * a principal (SPEC §5). Throws UsersError: 401 for a refused credential, other codes (database
 * down) as they come.
 */
async function resolvePrincipal(
  core: UsersCore,
  authorization: string | undefined,
  apiKey: string | undefined,
): Promise<{ principal: Principal; credential: string }> {
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization)
    if (!match?.[1]) {
      throw new UsersError('UNAUTHORIZED', {
        message: 'The Authorization header must be "Bearer <token or API key>".',
      })
    }
    return { principal: await core.authenticateBearer(match[1]), credential: match[1] }
  }
  const credential = (apiKey ?? '').trim()
  return { principal: await core.authenticateApiKey(credential), credential }
}

/**
 * Authenticates the request's credential, if it sent one. A refused credential is only
 * remembered: public routes ignore it, protected routes answer 401 with it. Errors other than
 * "not authenticated" (database down) propagate.
 */
export function authenticate(options: { core: UsersCore }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('credentialSent', false)
    const authorization = c.req.header('authorization')
    const apiKey = c.req.header('x-api-key')
    if (authorization === undefined && apiKey === undefined) return next()
    c.set('credentialSent', true)
    let resolved: Awaited<ReturnType<typeof resolvePrincipal>>
    try {
      resolved = await resolvePrincipal(options.core, authorization, apiKey)
    } catch (err) {
      if (!(err instanceof UsersError) || err.status !== 401) throw err
      c.set(
        'authError',
        err.code === 'UNAUTHORIZED' ? err : new UsersError('UNAUTHORIZED', { cause: err }),
      )
      return next()
    }
    c.set('principal', resolved.principal)
    c.set('credential', resolved.credential)
    await next()
  }
}
