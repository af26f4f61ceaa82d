// The operations of openapi.yaml, walked once: the fuzz suite and the token-attack suite derive
// their routes, parameters, bodies and security requirements from here, never from a hand list.
import { openApiDocument } from '../../../src/http/openapi.js'
import { resolveRef } from '../openapi-validator.js'

/** A JSON Schema of the document (a `$ref` is resolved by the reader). */
export type Schema = boolean | Record<string, unknown>

/** A parameter of an operation, `$ref`s resolved. */
export interface OperationParameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required: boolean
  schema: Schema
}

/** One (method, path) of the document with what a request to it may carry. */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete'
  /** The template, e.g. `/users/{id}`. */
  path: string
  operationId: string
  parameters: OperationParameter[]
  body: { required: boolean; contentTypes: string[]; schema: Schema } | undefined
  /** Security scheme names accepted; `[]` = public, `optional` = credentials not needed. */
  security: string[]
  securityOptional: boolean
  statuses: string[]
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Follows `$ref`s at the top of a value. */
export function deref<T>(value: T): T {
  let cur: unknown = value
  for (let i = 0; isObject(cur) && typeof cur.$ref === 'string' && i < 20; i++) {
    cur = resolveRef(cur.$ref)
  }
  return cur as T
}

function securityOf(requirements: unknown): { names: string[]; optional: boolean } {
  if (!Array.isArray(requirements)) return { names: [], optional: true }
  const names = new Set<string>()
  let optional = requirements.length === 0
  for (const requirement of requirements) {
    if (!isObject(requirement)) continue
    const keys = Object.keys(requirement)
    if (keys.length === 0) optional = true
    for (const key of keys) names.add(key)
  }
  return { names: [...names], optional }
}

let cached: Operation[] | undefined

/** Every operation of openapi.yaml, in document order. */
export function documentOperations(): Operation[] {
  if (cached) return cached
  const doc = openApiDocument() as Json
  const rootSecurity = doc.security
  const operations: Operation[] = []
  for (const [path, rawItem] of Object.entries(doc.paths as Json)) {
    const item = deref(rawItem) as Json
    const shared = Array.isArray(item.parameters) ? item.parameters : []
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      const op = item[method]
      if (!isObject(op)) continue
      const parameters: OperationParameter[] = []
      for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(raw) as Json
        parameters.push({
          name: String(p.name),
          in: p.in as OperationParameter['in'],
          required: p.required === true,
          schema: deref((p.schema ?? true) as Schema),
        })
      }
      let body: Operation['body']
      const requestBody = deref(op.requestBody)
      if (isObject(requestBody) && isObject(requestBody.content)) {
        const contentTypes = Object.keys(requestBody.content)
        const first = requestBody.content[contentTypes[0] ?? ''] as Json | undefined
        body = {
          required: requestBody.required === true,
          contentTypes,
          schema: deref((first?.schema ?? true) as Schema),
        }
      }
      const security = securityOf(op.security ?? rootSecurity)
      operations.push({
        method,
        path,
        operationId: String(op.operationId),
        parameters,
        body,
        security: security.names,
        securityOptional: security.optional,
        statuses: Object.keys(isObject(op.responses) ? op.responses : {}),
      })
    }
  }
  cached = operations
  return operations
}

/** `POST /users/{id}` style label. */
export function operationLabel(op: Pick<Operation, 'method' | 'path'>): string {
  return `${op.method.toUpperCase()} ${op.path}`
}

/** The operations that take a credential (a security requirement that is not optional). */
export function protectedOperations(): Operation[] {
  return documentOperations().filter((op) => op.security.length > 0 && !op.securityOptional)
}
