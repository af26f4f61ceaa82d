import type { MiddlewareHandler } from 'hono'
import { UsersError } from '../../errors.js'
import type { UsersCore } from '../../types.js'
import type { AppEnv } from '../context.js'

const BEARER = /^Bearer +(\S+) *$/i

/**
 * Resolves `Authorization: Bearer <access token or API key>` or `X-API-Key: <key>` to a principal
 * (SPEC §5). A refused credential is only remembered: public routes ignore it, protected routes
 * answer 401 with it. Errors other than "not authenticated" (database down) propagate.
 */
export function authenticate(options: { core: UsersCore }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('credentialSent', false)
    const authorization = c.req.header('authorization')
    const apiKey = c.req.header('x-api-key')
    if (authorization === undefined && apiKey === undefined) return next()
    c.set('credentialSent', true)
    let principal: Awaited<ReturnType<UsersCore['authenticateBearer']>>
    let credential: string
    try {
      if (authorization !== undefined) {
        const match = BEARER.exec(authorization)
        if (!match?.[1]) {
          throw new UsersError('UNAUTHORIZED', {
            message: 'The Authorization header must be "Bearer <token or API key>".',
          })
        }
        credential = match[1]
        principal = await options.core.authenticateBearer(credential)
      } else {
        credential = (apiKey ?? '').trim()
        principal = await options.core.authenticateApiKey(credential)
      }
    } catch (err) {
      if (!(err instanceof UsersError) || err.status !== 401) throw err
      c.set(
        'authError',
        err.code === 'UNAUTHORIZED' ? err : new UsersError('UNAUTHORIZED', { cause: err }),
      )
      return next()
    }
    c.set('principal', principal)
    c.set('credential', credential)
    await next()
  }
}
