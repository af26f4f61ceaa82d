import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { deepFreeze } from '../lib/freeze.js'

// openapi.yaml sits at the package root: two levels above both src/http/ (tsx, vitest) and
// dist/http/ (after build, where the package ships it). Walking up keeps that true if a file moves.
const FILE_NAME = 'openapi.yaml'
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const

/** An HTTP method as OpenAPI spells it (lower case). */
export type OpenApiMethod = (typeof HTTP_METHODS)[number]

/** One operation of the document: its method and OpenAPI-style path (`/users/{id}`). */
export interface OpenApiRoute {
  method: OpenApiMethod
  path: string
}

let cached: Readonly<Record<string, unknown>> | undefined

/** The path of the `openapi.yaml` this module serves. */
export function openApiFilePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, FILE_NAME)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  throw new Error(`${FILE_NAME} not found above ${fileURLToPath(import.meta.url)}`)
}

/** The parsed OpenAPI document, read once and deeply frozen. */
export function openApiDocument(): Readonly<Record<string, unknown>> {
  if (!cached) {
    const doc: unknown = parse(readFileSync(openApiFilePath(), 'utf8'))
    if (!isObject(doc) || !isObject(doc.paths)) throw new Error(`${FILE_NAME} has no paths`)
    cached = deepFreeze(doc)
  }
  return cached
}

/** Every (method, path) operation the document describes, in document order. */
export function openApiRoutes(): OpenApiRoute[] {
  const routes: OpenApiRoute[] = []
  const paths = openApiDocument().paths as Record<string, unknown>
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue
    for (const method of HTTP_METHODS) {
      if (isObject(item[method])) routes.push({ method, path })
    }
  }
  return routes
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
