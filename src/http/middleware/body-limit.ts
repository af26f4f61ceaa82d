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
  const tooLarge = () =>
    new UsersError('PAYLOAD_TOO_LARGE', {
      message: `The request body is larger than ${options.maxBytes} bytes.`,
    })
  const limit = honoBodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw tooLarge()
    },
  })
  const read: MiddlewareHandler<AppEnv> = async (c, next) => {
    const raw = new Uint8Array(await c.req.arrayBuffer())
    if (raw.byteLength > 0) c.set('rawBody', raw)
    await next()
  }
  // The method first: a request without a body has nothing to read.
  return (c, next) => {
    if (!METHODS_WITH_BODY.has(c.req.method)) return next()
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      // A declared length is checked here: hono/body-limit would open the body as a web stream
      // first, which costs @hono/node-server its direct read of the socket.
      if (Number(length) > options.maxBytes) throw tooLarge()
      return read(c, next)
    }
    return limit(c, async () => {
      await read(c, next)
    })
  }
}
