import { readFileSync } from 'node:fs'
import { UsersError } from '../../errors.js'
import type { App, RouteDeps } from './deps.js'

// Read once; package.json is three levels up from both src/http/routes and dist/http/routes.
const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
})()

/** `/health` (liveness with a database check) and `/ready` (can take traffic). */
export function registerHealthRoutes(app: App, deps: RouteDeps): void {
  const { core, isReady, startedAt, logger } = deps
  app.get('/health', async (c) => {
    let database: 'ok' | 'error' = 'ok'
    try {
      await core.checkHealth()
    } catch (err) {
      logger.warn({ err, request_id: c.get('requestId') }, 'health check: database failed')
      database = 'error'
    }
    const healthy = database === 'ok'
    const now = core.clock.now()
    return c.json(
      {
        status: healthy ? 'healthy' : 'unhealthy',
        service: 'users-core',
        version: VERSION,
        timestamp: now.toISOString(),
        uptime_seconds: Math.floor((now.getTime() - startedAt) / 1000),
        checks: { database },
      },
      healthy ? 200 : 503,
    )
  })

  app.get('/ready', async (c) => {
    if (!isReady()) {
      throw new UsersError('UNAVAILABLE', {
        message: 'Not ready: starting or shutting down.',
        retryAfterSeconds: 5,
      })
    }
    // An instance whose database is unreachable cannot serve: the load balancer should skip it.
    try {
      await core.checkHealth()
    } catch {
      throw new UsersError('UNAVAILABLE', {
        message: 'Not ready: the database is unreachable.',
        retryAfterSeconds: 5,
      })
    }
    return c.json({ status: 'ready' }, 200)
  })
}
