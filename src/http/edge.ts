import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { UsersError } from '../errors.js'
import { derivedOfFrozen } from '../lib/freeze.js'
import type { Logger } from '../lib/logger.js'
import { overloaded } from '../passwords/hasher.js'
import type { RequestLimiter } from '../rate-limit/limiter.js'
import type { Principal, User, UsersCore } from '../types.js'
import { authorizeAuthenticated } from './authz.js'
import type { ClientAddressOf } from './client-address.js'
import { logRequest, type RequestObserver } from './middleware/access-log.js'
import { resolvePrincipal } from './middleware/authenticate.js'
import { bodyReadBeforeApp, readNodeStream } from './middleware/body-limit.js'
import { renderError, toUsersError } from './middleware/error-handler.js'
import { decidedBeforeApp, rateLimitKey } from './middleware/rate-limit.js'
import {
  JWKS_CACHE_CONTROL,
  matchesIfNoneMatch,
  type PublicDocument,
  type PublicDocuments,
} from './public-documents.js'
import { type HeaderPolicy, requestIdFor } from './request-basics.js'
import { isJson, mediaTypeOf } from './routes/input.js'
import { refreshBody } from './schemas.js'
import { tokenResponseToWire, userToWire } from './wire.js'

/** What the fast path shares with the app (see `createAppParts`). */
export interface EdgeOptions {
  core: UsersCore
  policy: HeaderPolicy
  documents: PublicDocuments
  /** The app's own rule for the client address (`AppParts.clientAddress`). */
  clientAddress: ClientAddressOf
  logger: Logger
  metrics?: RequestObserver | undefined
  /** The general request budget when rate limiting is on. */
  limiter?: RequestLimiter | undefined
}

const LOGIN_PATH = '/auth/login'
/**
 * What a login refused at the door renders: built once and only ever rendered, never thrown —
 * making a new error per refusal (its stack trace) was a quarter of the refusal's cost.
 */
const LOGIN_REFUSAL = overloaded()
const REFRESH_PATH = '/auth/refresh'

type HotRoute =
  | { kind: 'document'; document: () => PublicDocument }
  | { kind: 'me'; document?: never }

/**
 * The server's fast path for the requests every validator and API call makes — `GET` of the
 * JWKS, the discovery document and `/users/me` — for refresh grants, and for the refusal of a
 * login the hash queue has no room for. It answers them before the framework with the same
 * headers (one `HeaderPolicy`), documents, authentication, authorisation, rate budget, error
 * rendering, metrics and access log as the app, in one `writeHead` (issue 6: JWKS 3×,
 * `/users/me` 1.5×, EdDSA refresh grants 1.3× the requests per second). Everything else, and
 * every answer that is not a plain success (a refused credential, a missing permission, an
 * empty budget, a database error, a body that does not validate), is handed to the app
 * untouched, which answers it as it always does — except the refusal of a refresh grant that
 * has run: a grant is not repeatable, so that answer is rendered here, by the app's renderer.
 */
export function createEdge(options: EdgeOptions, app: RequestListener): RequestListener {
  const { core, policy, documents, clientAddress, logger, metrics, limiter } = options
  const maxBodyBytes = core.config.api.max_body_bytes
  const routes = new Map<string, HotRoute>([
    ['/auth/jwks.json', { kind: 'document', document: documents.jwks }],
    ['/.well-known/jwks.json', { kind: 'document', document: documents.jwks }],
    ['/.well-known/openid-configuration', { kind: 'document', document: documents.discovery }],
    ['/users/me', { kind: 'me' }],
  ])

  const ipOf = (req: IncomingMessage) =>
    clientAddress(req.socket.remoteAddress, headerValue(req.headers['x-forwarded-for']))

  /** Authenticates and spends the budget; answers, or hands the request on to the app. */
  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: HotRoute,
  ): Promise<void> {
    const started = performance.now()
    const { headers } = req
    let principal: Principal | undefined
    if (route.kind === 'me') {
      try {
        principal = (
          await resolvePrincipal(core, headers.authorization, headerValue(headers['x-api-key']))
        ).principal
      } catch {
        return app(req, res)
      }
      if (!authorizeAuthenticated(principal, 'GET').allowed) return app(req, res)
    }
    if (limiter) {
      const decision = await limiter.consume(rateLimitKey(principal, ipOf(req)))
      if (!decision.allowed) {
        decidedBeforeApp.set(req, decision)
        return app(req, res)
      }
    }
    respond(req, res, path, route, principal, started)
  }

  /** Writes the success: one `writeHead`, then metrics and the access log. */
  function respond(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: HotRoute,
    principal: Principal | undefined,
    started: number,
  ): void {
    const requestId = requestIdFor(headerValue(req.headers['x-request-id']))
    const out = responseHeadersOf(req, requestId)
    let status = 200
    let body: string | undefined
    if (route.kind === 'document') {
      const document = route.document()
      out.push('Cache-Control', JWKS_CACHE_CONTROL, 'ETag', document.etag)
      const ifNoneMatch = headerValue(req.headers['if-none-match'])
      if (matchesIfNoneMatch(ifNoneMatch, document.etag)) status = 304
      else body = document.body
    } else {
      body = userBodyOf((principal as Principal).user)
      out.push('Cache-Control', 'no-store')
    }
    send(req, res, { method: 'GET', route: path, status, headers: out, body, requestId, started })
  }

  /** Writes an answer in one `writeHead` (JSON when it has a body), then metrics and the log. */
  function send(
    req: IncomingMessage,
    res: ServerResponse,
    answer: {
      method: string
      route: string
      status: number
      headers: string[]
      body: string | undefined
      requestId: string
      started: number
    },
  ): void {
    const { method, route, status, headers, body, requestId } = answer
    if (body !== undefined) {
      headers.push(
        'Content-Type',
        'application/json',
        'Content-Length',
        String(Buffer.byteLength(body)),
      )
    }
    res.writeHead(status, headers)
    res.end(body)
    const seconds = (performance.now() - answer.started) / 1000
    metrics?.observeRequest(route, method, status, seconds)
    if (logger.isLevelEnabled('info')) {
      const ip = ipOf(req)
      logRequest(logger, { requestId, method, route, path: route, status, seconds, ip })
    }
  }

  /**
   * `POST /auth/refresh` with a JSON body that declares its length and validates: the grant
   * and its answer, success or refusal, as the app's route gives them. A body it would not
   * parse, an empty budget or a credential header is handed to the app, with the body it
   * already read (`bodyReadBeforeApp`). Once the grant has run, its outcome is answered here: a
   * refresh is not repeatable.
   */
  async function refresh(
    req: IncomingMessage,
    res: ServerResponse,
    progress: { granting: boolean },
  ): Promise<void> {
    const started = performance.now()
    const { headers } = req
    const length = Number(headers['content-length'])
    if (
      !(length >= 1 && length <= maxBodyBytes) ||
      headers['transfer-encoding'] !== undefined ||
      headers.authorization !== undefined ||
      'x-api-key' in headers ||
      !isJson(mediaTypeOf(headerValue(headers['content-type'])))
    ) {
      return app(req, res)
    }
    let raw: Uint8Array | undefined
    try {
      raw = await readNodeStream(req, maxBodyBytes, () => new UsersError('PAYLOAD_TOO_LARGE'))
    } catch {
      res.destroy() // the client went away mid-body: nobody to answer
      return
    }
    if (raw === undefined) return app(req, res)
    bodyReadBeforeApp.set(req, raw)
    const refreshToken = refreshTokenIn(raw)
    if (refreshToken === undefined) return app(req, res)
    const ip = ipOf(req)
    if (limiter) {
      const decision = await limiter.consume(rateLimitKey(undefined, ip))
      if (!decision.allowed) {
        decidedBeforeApp.set(req, decision)
        return app(req, res)
      }
    }
    const requestId = requestIdFor(headerValue(headers['x-request-id']))
    const out = responseHeadersOf(req, requestId)
    let status = 200
    let body: string
    progress.granting = true
    try {
      const granted = await core.refreshToken(refreshToken, {
        ip,
        userAgent: headerValue(headers['user-agent']) ?? null,
        requestId,
      })
      body = JSON.stringify(tokenResponseToWire(granted))
      out.push('Cache-Control', 'no-store', 'Pragma', 'no-cache')
    } catch (err) {
      const error = toUsersError(err, (bug) =>
        logger.error(
          { err: bug, request_id: requestId, method: 'POST', path: REFRESH_PATH },
          'unhandled error',
        ),
      )
      const refusal = renderError(error, requestId, false)
      status = refusal.status
      body = refusal.body
      for (const [name, value] of Object.entries(refusal.headers)) out.push(name, value)
      out.push('Cache-Control', 'no-store')
    }
    send(req, res, {
      method: 'POST',
      route: REFRESH_PATH,
      status,
      headers: out,
      body,
      requestId,
      started,
    })
  }

  /**
   * A login while every hash slot is busy and the queue is full: 503 OVERLOADED at once, before
   * the body is read or any budget is spent — under a flood, each refusal must cost next to
   * nothing, or the flood alone starves every other route (SPEC §6.3, issue 6 scenario 5).
   */
  function refuseLogin(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now()
    const { headers } = req
    const requestId = requestIdFor(headerValue(headers['x-request-id']))
    const refusal = renderError(
      LOGIN_REFUSAL,
      requestId,
      headers.authorization !== undefined || 'x-api-key' in headers,
    )
    const out = responseHeadersOf(req, requestId)
    for (const [name, value] of Object.entries(refusal.headers)) out.push(name, value)
    out.push('Cache-Control', 'no-store')
    send(req, res, {
      method: 'POST',
      route: LOGIN_PATH,
      status: refusal.status,
      headers: out,
      body: refusal.body,
      requestId,
      started,
    })
  }

  function responseHeadersOf(req: IncomingMessage, requestId: string): string[] {
    return policy.responseHeaders(
      {
        encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
        forwardedProto: headerValue(req.headers['x-forwarded-proto']),
        origin: req.headers.origin,
      },
      requestId,
    )
  }

  return (req, res) => {
    const url = req.url ?? ''
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    if (req.method === 'POST') {
      if (path === REFRESH_PATH) {
        const progress = { granting: false }
        refresh(req, res, progress).catch((err: unknown) => {
          logger.error({ err, path }, 'fast path failed')
          // Before the grant the app can still answer (it has the body); after it, it must not
          // grant again.
          if (!res.headersSent && !progress.granting) app(req, res)
          else res.destroy()
        })
      } else if (path === LOGIN_PATH && core.hashPoolStats().full) refuseLogin(req, res)
      else app(req, res)
      return
    }
    if (req.method !== 'GET') return app(req, res)
    const route = routes.get(path)
    if (route === undefined) return app(req, res)
    // Public documents go fast only for anonymous callers (a credential changes whose budget
    // pays), `/users/me` only with a credential (without one the app answers 401).
    const credential = req.headers.authorization !== undefined || 'x-api-key' in req.headers
    if (credential !== (route.kind === 'me')) return app(req, res)
    const failed = (err: unknown) => {
      if (!res.headersSent) return app(req, res)
      logger.error({ err, path }, 'fast path failed after answering')
      res.destroy()
    }
    // A public document with no budget to spend needs no await at all.
    if (route.kind === 'document' && limiter === undefined) {
      try {
        respond(req, res, path, route, undefined, performance.now())
      } catch (err) {
        failed(err)
      }
      return
    }
    answer(req, res, path, route).catch(failed)
  }
}

/**
 * `/users/me` bodies of shared (frozen) users: while a cached credential's user is unchanged,
 * every request answers the same bytes, so they are serialised once (issue 6: the timestamps'
 * formatting alone was 3 % of the route's main thread).
 */
const userBodyOf = derivedOfFrozen((user: User) => JSON.stringify(userToWire(user)))

/** The `refresh_token` of a body the app's schema accepts; undefined for anything else. */
function refreshTokenIn(raw: Uint8Array): string | undefined {
  try {
    const parsed = refreshBody.safeParse(JSON.parse(UTF8.decode(raw)))
    return parsed.success ? parsed.data.refresh_token : undefined
  } catch {
    return undefined
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}
