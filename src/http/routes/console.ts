import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from 'hono'
import { UsersError } from '../../errors.js'
import type { AppEnv } from '../context.js'
import type { App, RouteDeps } from './deps.js'

/** Options of {@link registerConsoleRoutes}. */
export interface ConsoleOptions extends Pick<RouteDeps, 'config' | 'logger'> {
  /** Where the build is; default dist/console of this package. */
  buildDir?: string | undefined
}

/**
 * The CSP of `/console*` (SPEC §13): the page runs only its own bundled script and stylesheet,
 * talks only to this origin, draws the TOTP QR code as inline SVG, and submits no forms natively.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

// Asset names carry a content hash (scripts/build-console.ts), so a browser may keep them for good;
// the page itself is revalidated so a new build is picked up at once.
const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable'
const PAGE_CACHE_CONTROL = 'no-cache'

// dist/console sits at the package root: three levels above src/http/routes and dist/http/routes.
const BUILD_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url))

const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
])

interface ConsoleFile {
  body: Uint8Array<ArrayBuffer>
  type: string
  etag: string
}

interface ConsoleBuild {
  page: ConsoleFile
  /** A Map: the name comes from the path, where `constructor` must name nothing. */
  assets: ReadonlyMap<string, ConsoleFile>
}

function fileOf(path: string, type: string): ConsoleFile {
  const body = new Uint8Array(readFileSync(path))
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  return { body, type, etag }
}

/** The built console from `dir`, read once, or undefined when it was not built. */
function loadConsoleBuild(dir: string): ConsoleBuild | undefined {
  const pagePath = join(dir, 'index.html')
  const assetsDir = join(dir, 'assets')
  if (!existsSync(pagePath) || !existsSync(assetsDir)) return undefined
  const assets = new Map<string, ConsoleFile>()
  for (const name of readdirSync(assetsDir)) {
    const type = CONTENT_TYPES.get(name.slice(name.lastIndexOf('.')))
    if (type !== undefined) assets.set(name, fileOf(join(assetsDir, name), type))
  }
  return { page: fileOf(pagePath, 'text/html; charset=utf-8'), assets }
}

function serve(c: Context<AppEnv>, file: ConsoleFile, cacheControl: string): Response {
  const headers = {
    'Content-Security-Policy': CONSOLE_CSP,
    'Cache-Control': cacheControl,
    ETag: file.etag,
  }
  const sent = c.req.header('if-none-match')
  if (sent?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return c.body(null, 304, headers)
  }
  return c.body(file.body, 200, { ...headers, 'Content-Type': file.type })
}

/**
 * `GET /console` (the web console of SPEC §13, built by `npm run build` into dist/console) and
 * its assets under `/console/assets/`. Mounts nothing when `api.console_enabled` is false, so
 * those paths answer the app's 404; without a build they answer 404 saying so.
 */
export function registerConsoleRoutes(app: App, options: ConsoleOptions): void {
  const { config, logger, buildDir = BUILD_DIR } = options
  if (!config.api.console_enabled) return
  const build = loadConsoleBuild(buildDir)
  if (!build) {
    logger.warn({ dir: buildDir }, 'console not built: GET /console answers 404 (npm run build)')
  }
  const notBuilt = () =>
    new UsersError('NOT_FOUND', { message: 'The console is not built: run `npm run build`.' })

  app.get('/console', (c) => {
    if (!build) throw notBuilt()
    return serve(c, build.page, PAGE_CACHE_CONTROL)
  })
  app.get('/console/assets/:file', (c) => {
    if (!build) throw notBuilt()
    const file = build.assets.get(c.req.param('file'))
    if (!file) throw new UsersError('NOT_FOUND')
    return serve(c, file, ASSET_CACHE_CONTROL)
  })
}
