import type { Hono } from 'hono'
import type { Config } from '../../config/schema.js'
import type { Logger } from '../../lib/logger.js'
import type { LimiterBackend } from '../../storage/redis/limiter-backend.js'
import type { UsersCore } from '../../types.js'
import type { AppEnv } from '../context.js'

/** What the route modules are built from. */
export interface RouteDeps {
  core: UsersCore
  config: Config
  logger: Logger
  limiter: LimiterBackend | undefined
  /** False while the server starts or drains (`/ready` answers 503). */
  isReady: () => boolean
  /** When this app was created, for `uptime_seconds`. */
  startedAt: number
}

/** The app type route modules register on. */
export type App = Hono<AppEnv>
