import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../context.js'

/**
 * `Cache-Control: no-store` on every response that does not choose its own (JWKS and discovery
 * do, by passing their own header). That covers token responses and every authenticated response
 * (SPEC §6.3) with no route able to forget it.
 */
export function noStoreByDefault(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.header('Cache-Control', 'no-store')
    await next()
  }
}
