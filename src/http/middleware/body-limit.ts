import type { MiddlewareHandler } from 'hono'
import { bodyLimit as honoBodyLimit } from 'hono/body-limit'
import { UsersError } from '../../errors.js'
import type { AppEnv } from '../context.js'

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Reads the request body into `rawBody`, refusing more than `maxBytes` with 413
 * PAYLOAD_TOO_LARGE: hono/body-limit checks `Content-Length` up front and counts a chunked body
 * while reading it, so one without a length cannot get past it either.
 */
export function bodyLimit(options: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  const limit = honoBodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new UsersError('PAYLOAD_TOO_LARGE', {
        message: `The request body is larger than ${options.maxBytes} bytes.`,
      })
    },
  })
  const read: MiddlewareHandler<AppEnv> = async (c, next) => {
    const raw = new Uint8Array(await c.req.arrayBuffer())
    if (raw.byteLength > 0) c.set('rawBody', raw)
    await next()
  }
  // The method first: a request without a body has nothing to read.
  return (c, next) =>
    METHODS_WITH_BODY.has(c.req.method)
      ? limit(c, async () => {
          await read(c, next)
        })
      : next()
}
