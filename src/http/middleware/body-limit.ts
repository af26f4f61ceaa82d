import { IncomingMessage } from 'node:http'
import type { MiddlewareHandler } from 'hono'
import { UsersError } from '../../errors.js'
import type { AppEnv } from '../context.js'

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Bodies the server's fast path already read from a request it then handed to the app (a body
 * it would not answer itself); the app takes them from here, since the stream is spent.
 */
export const bodyReadBeforeApp = new WeakMap<IncomingMessage, Uint8Array>()

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
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > options.maxBytes) throw tooLarge()
    // On a real server read Node's stream itself: a web stream over it costs a Request, an
    // AbortSignal and a reader per request (issue 6 profiles); app.request() has only the latter.
    const incoming = c.env?.incoming
    const raw =
      incoming instanceof IncomingMessage
        ? (bodyReadBeforeApp.get(incoming) ??
          (await readNodeStream(incoming, options.maxBytes, tooLarge)))
        : await readLimited(webChunks(c.req.raw.body), options.maxBytes, tooLarge)
    if (raw !== undefined) c.set('rawBody', raw)
    await next()
  }
}

/**
 * Reads Node's request stream up to `maxBytes`. Past it, it stops listening without destroying
 * the stream, so the 413 can still be written (Node discards or closes what remains unread).
 */
export function readNodeStream(
  incoming: NodeJS.ReadableStream,
  maxBytes: number,
  tooLarge: () => UsersError,
): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > maxBytes) {
        stop()
        incoming.pause()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      resolve(chunks.length === 0 ? undefined : Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => {
      stop()
      reject(err)
    }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
  })
}

async function* webChunks(body: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
  if (body === null) return
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/** Concatenates the body, throwing past `maxBytes`; undefined when there was no body at all. */
async function readLimited(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  tooLarge: () => UsersError,
): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of source) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooLarge()
    chunks.push(chunk)
  }
  if (chunks.length === 0) return undefined
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, size)
}
