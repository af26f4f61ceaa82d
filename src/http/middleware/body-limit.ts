import type { MiddlewareHandler } from 'hono'
import { UsersError } from '../../errors.js'
import type { AppEnv } from '../context.js'

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Reads the request body into `rawBody`, refusing more than `maxBytes` with 413 — from
 * `Content-Length` up front, and by counting while reading, so a chunked body without a length
 * cannot get past it either.
 */
export function bodyLimit(options: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  const tooLarge = () =>
    new UsersError('PAYLOAD_TOO_LARGE', {
      message: `The request body is larger than ${options.maxBytes} bytes.`,
    })
  return async (c, next) => {
    // The method first: touching `raw.body` makes the adapter build a full Request object.
    if (!METHODS_WITH_BODY.has(c.req.method)) return next()
    const body = c.req.raw.body
    if (body === null) return next()
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > options.maxBytes) throw tooLarge()
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > options.maxBytes) {
        await reader.cancel().catch(() => {})
        throw tooLarge()
      }
      chunks.push(value)
    }
    const raw = new Uint8Array(size)
    let at = 0
    for (const chunk of chunks) {
      raw.set(chunk, at)
      at += chunk.byteLength
    }
    c.set('rawBody', raw)
    await next()
  }
}
