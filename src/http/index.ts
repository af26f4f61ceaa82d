// The `users-core/http` entry: the REST app and the server that opens its port.

export type { Logger } from 'pino'
export { createLimiterBackend, type LimiterBackend } from '../storage/redis/limiter-backend.js'
export { type AppEnv, type CreateAppOptions, createApp, type HttpMetrics } from './app.js'
export {
  installSignalHandlers,
  type RunningServer,
  type StartServerOptions,
  startServer,
} from './serve.js'
