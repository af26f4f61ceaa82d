import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Env, Hono } from 'hono'
import type { Config } from '../config/schema.js'
import { UsersError } from '../errors.js'
import { openApiDocument } from './openapi.js'

/**
 * The CSP of `/docs*` (SPEC §6.3: relaxed only as far as the page needs, as measured in a real
 * browser by test/http/docs-browser.test.ts). Scripts are our own files (the init script too, so
 * no inline script); Swagger UI sets styles through the CSSOM, which CSP does not restrict, so
 * no 'unsafe-inline'; its CSS embeds SVG icons as `data:` URLs; it fetches only `/openapi.json`
 * (and, with "Try it out", the API itself); it loads no fonts.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

/** Assets change only with the installed swagger-ui-dist, so browsers may keep them a day. */
export const DOCS_ASSET_CACHE_CONTROL = 'public, max-age=86400'

/** Options of {@link registerDocsRoutes}. */
export interface DocsOptions {
  config: Config
}

// The page loads scripts and styles by relative URL, so it also works behind a path prefix.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>users-core API reference</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" sizes="32x32" href="docs/assets/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="docs/assets/favicon-16x16.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/init.js"></script>
</body>
</html>
`

// validatorUrl null: otherwise Swagger UI loads a badge from validator.swagger.io. BaseLayout
// without the standalone preset: no top bar that could fetch a description from elsewhere.
const INIT_SCRIPT = `'use strict'
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('openapi.json', document.baseURI).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
  })
})
`

/**
 * Files of swagger-ui-dist the page uses, with their content types. A Map: the name comes from
 * the path, where `constructor` or `__proto__` must name nothing.
 */
const PACKAGE_ASSETS: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
  ['favicon-16x16.png', 'image/png'],
])

let packageDir: string | undefined

/** The directory of the installed swagger-ui-dist package. */
export function swaggerUiDistDir(): string {
  packageDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  return packageDir
}

// Read once per process: the bundle is about 1.5 MB and never changes while we run.
const assetCache = new Map<string, Uint8Array<ArrayBuffer>>()

function packageAsset(file: string): Uint8Array<ArrayBuffer> {
  let bytes = assetCache.get(file)
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(join(swaggerUiDistDir(), file)))
    assetCache.set(file, bytes)
  }
  return bytes
}

/**
 * Mounts `GET /openapi.json` (the document, `servers[0].url` = `public_url`) and `GET /docs`
 * (Swagger UI from the installed swagger-ui-dist, loading nothing from the internet) with its
 * assets under `/docs/assets/`. Mounts nothing when `api.docs_enabled` is false, so those paths
 * answer the app's 404.
 */
export function registerDocsRoutes<E extends Env>(app: Hono<E>, options: DocsOptions): void {
  const { config } = options
  if (!config.api.docs_enabled) return

  const document = {
    ...openApiDocument(),
    servers: [{ url: config.public_url, description: 'This users-core instance.' }],
  }
  const documentJson = JSON.stringify(document)

  app.get('/openapi.json', (c) =>
    c.body(documentJson, 200, { 'Content-Type': 'application/json; charset=utf-8' }),
  )

  app.get('/docs', (c) =>
    c.body(PAGE, 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': DOCS_CSP,
    }),
  )

  app.get('/docs/assets/:file', (c) => {
    const file = c.req.param('file') ?? ''
    const headers = {
      'Content-Security-Policy': DOCS_CSP,
      'Cache-Control': DOCS_ASSET_CACHE_CONTROL,
    }
    if (file === 'init.js') {
      return c.body(INIT_SCRIPT, 200, {
        ...headers,
        'Content-Type': 'text/javascript; charset=utf-8',
      })
    }
    const type = PACKAGE_ASSETS.get(file)
    if (type === undefined) throw new UsersError('NOT_FOUND')
    return c.body(packageAsset(file), 200, { ...headers, 'Content-Type': type })
  })
}
