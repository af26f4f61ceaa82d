import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Config } from '../config/schema.js'
import { addressBlock, canonicalIp } from '../lib/ip-range.js'
import type { Logger } from '../lib/logger.js'
import { createLimiterBackend, type LimiterBackend } from '../storage/redis/limiter-backend.js'
import type { UsersCore } from '../types.js'
import { createApp } from './app.js'
import { createTrustedProxyTest } from './client-address.js'
import type { HttpMetrics } from './metrics.js'

/** SPEC §6.3: requests in flight get this long to finish on shutdown. */
export const DRAIN_TIMEOUT_MS = 10_000
const MAINTENANCE_INTERVAL_MS = 60_000
const AUDIT_PRUNE_INTERVAL_MS = 86_400_000
// Node enforces the header and request timeouts only when it checks, this often (default 30 s).
const TIMEOUT_CHECK_INTERVAL_MS = 1000

/** Options of {@link startServer}. */
export interface StartServerOptions {
  core: UsersCore
  config: Config
  logger: Logger
  /**
   * Share one limiter store (one Redis connection) with the core's lockout; default: a new one
   * from `config`. Closed with the server.
   */
  limiter?: LimiterBackend | undefined
  metrics?: HttpMetrics | undefined
}

/** A listening users-core server. */
export interface RunningServer {
  /** The base URL actually listened on (the real port when `api_bind_address` says 0). */
  url: string
  port: number
  /** Stops accepting, drains requests (up to 10 s), then closes the core. Idempotent. */
  close(): Promise<void>
}

/** Splits `host:port` / `[v6]:port`. */
function parseBindAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':')
  return {
    host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'),
    port: Number(address.slice(at + 1)),
  }
}

/**
 * Serves the REST API on `api_bind_address` (HTTPS when `tls.cert_path` and `tls.key_path` are
 * set), runs key rotation and audit pruning on timers, and resolves once listening.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { core, config, logger } = options
  let ready = false
  let draining = false
  const limiter = options.limiter ?? createLimiterBackend(config, logger)
  // The app is built once the port is known: with port 0 and no explicit public_url, links and
  // the discovery document must name the port actually bound, not ":0".
  // Replaced by the app's listener right after listen() resolves, with no await in between, so
  // no request can reach this placeholder; it only keeps `handle` from being undefined.
  let handle: RequestListener = (_req, res) => {
    res.writeHead(503).end()
  }

  // Count requests until their response is done, to know when draining is over.
  let inFlight = 0
  const drained: (() => void)[] = []
  const listener: RequestListener = (req, res) => {
    inFlight++
    if (draining) res.setHeader('Connection', 'close')
    res.once('close', () => {
      inFlight--
      if (inFlight === 0) for (const resolve of drained.splice(0)) resolve()
    })
    handle(req, res)
  }
  const tls =
    config.tls.cert_path && config.tls.key_path
      ? { cert: readFileSync(config.tls.cert_path), key: readFileSync(config.tls.key_path) }
      : undefined
  const { api } = config
  const limits = {
    requestTimeout: api.request_timeout_seconds * 1000,
    headersTimeout: api.headers_timeout_seconds * 1000,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  }
  const server: Server = tls
    ? createHttpsServer({ ...tls, ...limits }, listener)
    : createHttpServer(limits, listener)
  server.keepAliveTimeout = api.keep_alive_timeout_seconds * 1000
  server.maxConnections = api.max_connections
  capConnectionsPerIp(server, api.max_connections_per_ip, createTrustedProxyTest(api))

  const { host, port } = parseBindAddress(config.api_bind_address)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', (err) => logger.error({ err }, 'server error'))
  const bound = server.address() as AddressInfo
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${bound.port}`
  const publicUrlDefaulted = config.public_url === `http://${config.api_bind_address}`
  const app = createApp(core, {
    logger,
    limiter,
    metrics: options.metrics,
    isReady: () => ready && !draining,
    ...(publicUrlDefaulted && port === 0 ? { publicUrl: url } : {}),
  })
  handle = getRequestListener(app.fetch)
  ready = true
  logger.info({ url }, 'users-core listening')

  const stopMaintenance = startMaintenance(core, logger)

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      draining = true
      stopMaintenance()
      logger.info({ in_flight: inFlight }, 'shutting down: draining requests')
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const idle =
        inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => drained.push(resolve))
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), DRAIN_TIMEOUT_MS)
      })
      if ((await Promise.race([idle, timeout])) === 'timeout') {
        logger.warn({ in_flight: inFlight }, 'drain timeout: closing remaining connections')
      }
      server.closeAllConnections()
      await Promise.race([stopped, timeout])
      clearTimeout(timer)
      await limiter.close().catch((err: unknown) => logger.error({ err }, 'closing limiter failed'))
      await core.close()
      logger.info('users-core stopped')
    })()
    return closing
  }

  return { url, port: bound.port, close }
}

/**
 * Closes at once, before any byte is read, a connection whose peer already has `cap` open: a
 * TLS handshake is not worth spending on it and it has sent no request to answer. A trusted
 * proxy carries many clients' connections, so it is held to `api.max_connections` only.
 */
function capConnectionsPerIp(server: Server, cap: number, isTrustedProxy: (ip: string) => boolean) {
  const open = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress === undefined ? null : canonicalIp(socket.remoteAddress)
    if (address === null || isTrustedProxy(address)) return
    const ip = addressBlock(address)
    const count = (open.get(ip) ?? 0) + 1
    if (count > cap) {
      socket.destroy()
      return
    }
    open.set(ip, count)
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1
      if (left === 0) open.delete(ip)
      else open.set(ip, left)
    })
  })
}

/**
 * Audit retention, checked every minute and applied daily; never fatal. (Due key rotations are
 * the keyring's own job: it checks on every key reload, in the library as in the server.)
 */
function startMaintenance(core: UsersCore, logger: Logger): () => void {
  let lastPrune = Number.NEGATIVE_INFINITY
  const tick = async () => {
    const now = core.clock.now().getTime()
    if (now - lastPrune < AUDIT_PRUNE_INTERVAL_MS) return
    lastPrune = now
    try {
      const deleted = await core.audit.prune()
      if (deleted > 0) logger.info({ deleted }, 'pruned audit events past retention')
    } catch (err) {
      logger.error({ err }, 'audit pruning failed')
    }
  }
  const timer = setInterval(() => void tick(), MAINTENANCE_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * SPEC §6.3: SIGTERM/SIGINT stop accepting, drain, close the database and exit 0 (1 when closing
 * fails). Returns a function that removes the handlers.
 */
export function installSignalHandlers(server: RunningServer, logger: Logger): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received')
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  return () => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}
