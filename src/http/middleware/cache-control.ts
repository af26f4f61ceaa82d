import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

/**
 * `Cache-Control: no-store` on every response that does not choose its own (JWKS and discovery
 * do). That covers token responses and every authenticated response (SPEC §6.3) with no route
 * able to forget it.
 */
export function noStoreByDefault(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store')
  }
}
