import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { init } from '../../src/core.js'
import { AUDIT_EVENT_TYPES } from '../../src/domain/records.js'
import { ERROR_STATUS } from '../../src/errors.js'
import { createApp } from '../../src/http/app.js'
import { openApiDocument, openApiFilePath, openApiRoutes } from '../../src/http/openapi.js'
import { createLogger } from '../../src/lib/logger.js'
import type { UsersCore } from '../../src/types.js'
import { resolveRef } from '../helpers/openapi-validator.js'

type Json = Record<string, unknown>
const doc = openApiDocument() as Json
const components = doc.components as Json
const schemas = components.schemas as Json

/** Hono's `/users/:id` (or `:id{regex}`) as OpenAPI's `/users/{id}`. */
function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')
}

/** Routes that are assets or middleware, not operations of the API. */
function isOperation(route: { method: string; path: string }): boolean {
  return (
    route.method !== 'ALL' && !route.path.includes('*') && !route.path.startsWith('/docs/assets/')
  )
}

/** Every operation of the document with its method, path and operation object. */
function operations(): Array<{ method: string; path: string; op: Json; item: Json }> {
  return openApiRoutes().map(({ method, path }) => {
    const item = (doc.paths as Json)[path] as Json
    return { method, path, op: item[method] as Json, item }
  })
}

describe('openapi.yaml and the app agree', () => {
  let core: UsersCore

  beforeAll(async () => {
    core = await init(
      {
        database_url: 'sqlite::memory:',
        log_level: 'silent',
        password: { argon2_memory_cost: 1024, argon2_time_cost: 1, argon2_parallelism: 1 },
        jwt: { algorithm: 'ES256' },
      },
      { logger: createLogger('silent') },
    )
  })
  afterAll(async () => {
    await core?.close()
  })

  it('documents exactly the routes the app registers', () => {
    const app = createApp(core, { logger: createLogger('silent') })
    const registered = new Set(
      app.routes
        .filter(isOperation)
        .map((r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.path)}`),
    )
    const documented = new Set(openApiRoutes().map((r) => `${r.method.toUpperCase()} ${r.path}`))
    const undocumented = [...registered].filter((r) => !documented.has(r)).sort()
    const unserved = [...documented].filter((r) => !registered.has(r)).sort()
    expect({ undocumented, unserved }).toEqual({ undocumented: [], unserved: [] })
  })

  it('normalises Hono path syntax to OpenAPI templates', () => {
    expect(toOpenApiPath('/users/:id/sessions/:sid')).toBe('/users/{id}/sessions/{sid}')
    expect(toOpenApiPath('/api-keys/:id{[0-9a-f-]+}')).toBe('/api-keys/{id}')
    expect(isOperation({ method: 'ALL', path: '*' })).toBe(false)
    expect(isOperation({ method: 'GET', path: '/docs/assets/:file' })).toBe(false)
  })
})

describe('openapi.yaml', () => {
  it('is OpenAPI 3.1 with the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect((doc.info as Json).version).toBe(pkg.version)
    expect(openApiFilePath()).toMatch(/openapi\.yaml$/)
    expect(Object.isFrozen(doc) && Object.isFrozen(doc.paths)).toBe(true)
  })

  it('lists every error code of src/errors.ts and no other', () => {
    const documented = (schemas.ErrorCode as Json).enum as string[]
    expect([...documented].sort()).toEqual(Object.keys(ERROR_STATUS).sort())
  })

  it('pins each shared error response to codes of its own status', () => {
    const responses = components.responses as Json
    for (const [name, raw] of Object.entries(responses)) {
      const media = ((raw as Json).content as Json | undefined)?.['application/json'] as Json
      if (!media || name === 'User' || name === 'Jwks') continue
      const codes = errorCodesOf(media.schema as Json)
      expect(codes.length, name).toBeGreaterThan(0)
      const statuses = new Set(codes.map((code) => ERROR_STATUS[code as keyof typeof ERROR_STATUS]))
      expect(statuses.size, `${name}: ${codes}`).toBe(1)
    }
  })

  it('lists every audit event type of SPEC §8', () => {
    expect((schemas.AuditEventType as Json).enum).toEqual([...AUDIT_EVENT_TYPES])
  })

  it('resolves every $ref', () => {
    const refs: string[] = []
    const visit = (node: unknown) => {
      if (Array.isArray(node)) for (const n of node) visit(n)
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v)
          else visit(v)
        }
      }
    }
    visit(doc)
    expect(refs.length).toBeGreaterThan(100)
    for (const ref of new Set(refs)) expect(() => resolveRef(ref), ref).not.toThrow()
  })

  it('gives every operation an id, a tag, a 500, an X-Request-Id and the limits it is under', () => {
    const ids = new Set<string>()
    for (const { method, path, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      expect(typeof op.operationId, where).toBe('string')
      expect(ids.has(op.operationId as string), `${where} duplicate operationId`).toBe(false)
      ids.add(op.operationId as string)
      expect((op.tags as string[] | undefined)?.length, where).toBe(1)
      const responses = op.responses as Json
      expect(responses, where).toHaveProperty('500')
      // SPEC §2: every route but /health and /ready is rate-limited.
      if (path !== '/health' && path !== '/ready') expect(responses, where).toHaveProperty('429')
      const security = (op.security ?? doc.security) as Json[]
      const needsCredentials =
        security.length > 0 && !security.some((s) => Object.keys(s).length === 0)
      if (needsCredentials) expect(responses, where).toHaveProperty('401')
      if (op.requestBody) {
        expect(responses, where).toHaveProperty('413')
        const content = (op.requestBody as Json).content as Json
        for (const media of Object.values(content)) {
          const schema = deref((media as Json).schema as Json)
          expect(schema.additionalProperties, `${where} body`).toBe(false)
        }
      }
      for (const [status, raw] of Object.entries(responses)) {
        const headers = (deref(raw as Json).headers ?? {}) as Json
        expect(headers, `${where} ${status}`).toHaveProperty('X-Request-Id')
      }
    }
  })

  it('path parameters match the path templates', () => {
    for (const { path, op, item } of operations()) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort()
      const params = [...((item.parameters ?? []) as Json[]), ...((op.parameters ?? []) as Json[])]
        .map((p) => deref(p))
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort()
      expect(params, path).toEqual(inPath)
    }
  })
})

function deref(node: Json): Json {
  return typeof node.$ref === 'string' ? deref(resolveRef(node.$ref) as Json) : node
}

/** The error codes a response schema allows (through $ref, allOf, oneOf and const/enum). */
function errorCodesOf(schema: Json): string[] {
  const s = deref(schema)
  if (Array.isArray(s.oneOf)) return (s.oneOf as Json[]).flatMap(errorCodesOf)
  if (Array.isArray(s.allOf)) {
    const narrowed = (s.allOf as Json[]).flatMap((part) => {
      const code = (
        ((deref(part).properties as Json | undefined)?.error as Json | undefined)?.properties as
          | Json
          | undefined
      )?.code as Json | undefined
      if (!code || code.$ref) return []
      return code.const !== undefined ? [code.const as string] : ((code.enum ?? []) as string[])
    })
    return narrowed
  }
  return []
}
