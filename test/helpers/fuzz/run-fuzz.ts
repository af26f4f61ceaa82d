// Runs generated requests through `app.request()` and checks each answer: never a 5xx, every
// error in the SPEC §6.1 envelope with a known code and the response's request id, security
// headers always, and every documented (route, status) matching openapi.yaml.
import fc from 'fast-check'
import { openApiDocument } from '../../../src/http/openapi.js'
import { assertResponseMatches, findPathTemplate } from '../openapi-validator.js'
import type { FuzzWorld } from './fuzz-world.js'
import { deref, type Operation, operationLabel } from './operations.js'
import {
  anyRequest,
  describeRequest,
  type FuzzRequest,
  fuzzOperations,
  toRequestInit,
  UNDOCUMENTED_OPERATIONS,
} from './requests.js'

/** What a run saw. */
export interface FuzzStats {
  requests: number
  /** Requests per documented operation (`POST /users/{id}/roles`). */
  perRoute: Map<string, number>
  /** Status counts per operation. */
  statuses: Map<string, Map<number, number>>
  /** (operation, status) pairs the document does not list, with counts. */
  undocumented: Map<string, number>
  /** Statuses of requests whose malformed path may route elsewhere (`/users/me`, 405). */
  unmatched: Map<string, number>
  fiveXx: number
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  numRuns: number
  seed?: number
  operations?: Operation[]
  /** Called every `progressEvery` requests. */
  onProgress?: (stats: FuzzStats) => void
  progressEvery?: number
}

// The product's rule for echoing a client's X-Request-Id (SPEC §6.1).
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/

let errorCodes: Set<string> | undefined

/** The error codes of SPEC §6.1, read from the document's `ErrorCode` schema. */
export function documentedErrorCodes(): Set<string> {
  if (!errorCodes) {
    const schemas = (openApiDocument().components as Record<string, unknown>).schemas as Record<
      string,
      { enum?: string[] }
    >
    errorCodes = new Set(schemas.ErrorCode?.enum ?? [])
  }
  return errorCodes
}

/** Throws unless `body` is `{error: {code, message, details?}, request_id}` with a known code. */
export function assertErrorEnvelope(body: unknown, requestId: string | null, label: string): void {
  const problem = (why: string) =>
    new Error(
      `${label}: not the SPEC §6.1 envelope (${why}): ${JSON.stringify(body)?.slice(0, 300)}`,
    )
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw problem('not an object')
  const b = body as Record<string, unknown>
  const keys = Object.keys(b).sort().join(',')
  if (keys !== 'error,request_id') throw problem(`top-level keys ${keys}`)
  const error = b.error as Record<string, unknown> | null
  if (typeof error !== 'object' || error === null) throw problem('no error object')
  for (const key of Object.keys(error)) {
    if (!['code', 'message', 'details'].includes(key)) throw problem(`unexpected error.${key}`)
  }
  if (typeof error.code !== 'string' || !documentedErrorCodes().has(error.code))
    throw problem(`code ${String(error.code)}`)
  if (typeof error.message !== 'string' || error.message === '') throw problem('no message')
  if (typeof b.request_id !== 'string' || b.request_id === '') throw problem('no request_id')
  if (b.request_id !== requestId)
    throw problem(`request_id ${String(b.request_id)} ≠ header ${requestId}`)
}

/** The template and method the document uses for a concrete path, or undefined. */
function documentedOperation(
  request: FuzzRequest,
): { path: string; statuses: string[] } | undefined {
  const paths = openApiDocument().paths as Record<string, Record<string, unknown>>
  const template = findPathTemplate(request.path)
  for (const candidate of [template, request.op.path]) {
    if (!candidate) continue
    const item = deref(paths[candidate])
    const op = item?.[request.op.method] as { responses?: Record<string, unknown> } | undefined
    if (op?.responses && (candidate === template || !request.hostilePath)) {
      return { path: candidate, statuses: Object.keys(op.responses) }
    }
  }
  return undefined
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

/** Sends one request and checks the answer; throws with the request when a property fails. */
export async function sendAndCheck(
  world: FuzzWorld,
  request: FuzzRequest,
  stats: FuzzStats,
): Promise<void> {
  const label = operationLabel(request.op)
  let res: Response
  try {
    res = await world.app.request(request.path + request.query, toRequestInit(world, request))
  } catch (err) {
    throw new Error(`app.request threw for\n${describeRequest(request)}\n${(err as Error).stack}`)
  }
  stats.requests++
  bump(stats.perRoute, label)
  const byStatus = stats.statuses.get(label) ?? new Map<number, number>()
  stats.statuses.set(label, byStatus)
  bump(byStatus, res.status)

  const text = await res.text()
  const where = () => `\n${describeRequest(request)}\n→ ${res.status} ${text.slice(0, 500)}`
  if (res.status >= 500) {
    stats.fiveXx++
    throw new Error(`5xx${where()}\nerror log:\n${world.errorLogs.join('')}`)
  }
  const requestId = res.headers.get('x-request-id')
  if (!requestId) throw new Error(`no X-Request-Id${where()}`)
  const sent = request.headers['x-request-id']
  if (sent !== undefined && SANE_REQUEST_ID.test(sent) && requestId !== sent) {
    throw new Error(`X-Request-Id ${requestId} does not echo ${sent}${where()}`)
  }
  if (
    res.headers.get('x-content-type-options') !== 'nosniff' ||
    res.headers.get('x-frame-options') !== 'DENY'
  ) {
    throw new Error(`security headers missing${where()}`)
  }
  let body: unknown
  if (text !== '' && (res.headers.get('content-type') ?? '').startsWith('application/json')) {
    try {
      body = JSON.parse(text)
    } catch {
      throw new Error(`JSON content type but not JSON${where()}`)
    }
  }
  if (res.status >= 400) {
    try {
      assertErrorEnvelope(body, requestId, label)
    } catch (err) {
      throw new Error(`${(err as Error).message}${where()}`)
    }
  }

  const documented = documentedOperation(request)
  if (documented?.statuses.includes(String(res.status))) {
    const copy = new Response(text === '' ? null : text, {
      status: res.status,
      headers: res.headers,
    })
    try {
      await assertResponseMatches(request.op.method, documented.path, copy)
    } catch (err) {
      throw new Error(`${(err as Error).message}${where()}`)
    }
  } else if (UNDOCUMENTED_OPERATIONS.includes(request.op)) {
    // Not in the document: the envelope and the 5xx rule above are all there is to check.
  } else if (request.hostilePath) {
    bump(stats.unmatched, `${label} → ${res.status}`)
  } else {
    bump(stats.undocumented, `${label} → ${res.status}`)
  }

  if (res.status < 300) {
    world.harvest(body, request.json)
    const etag = res.headers.get('etag')
    if (etag && !world.pools.etags.includes(etag)) world.pools.etags.push(etag)
    // A successful change may have logged out, demoted or deleted one of our own principals.
    if (request.op.method !== 'get') await world.heal()
  }
}

/** An empty {@link FuzzStats}. */
export function emptyStats(): FuzzStats {
  return {
    requests: 0,
    perRoute: new Map(),
    statuses: new Map(),
    undocumented: new Map(),
    unmatched: new Map(),
    fiveXx: 0,
  }
}

/**
 * Runs `numRuns` generated requests (seeded, reproducible) against the world with fast-check;
 * throws the first failing request. Returns what it saw.
 */
export async function runFuzz(world: FuzzWorld, options: FuzzOptions): Promise<FuzzStats> {
  const stats = emptyStats()
  const every = options.progressEvery ?? 1000
  await fc.assert(
    fc.asyncProperty(anyRequest(world, options.operations ?? fuzzOperations()), async (request) => {
      await sendAndCheck(world, request, stats)
      if (options.onProgress && stats.requests % every === 0) options.onProgress(stats)
    }),
    {
      numRuns: options.numRuns,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      // The world is stateful: shrinking would replay against a changed database. The seed and
      // the failing request in the message are enough to reproduce.
      endOnFailure: true,
    },
  )
  return stats
}

/** Throws unless every operation (the document's and the undocumented ones) got a request. */
export function assertEveryRouteCovered(stats: FuzzStats): void {
  const missing = fuzzOperations()
    .map(operationLabel)
    .filter((label) => (stats.perRoute.get(label) ?? 0) === 0)
  if (missing.length > 0) throw new Error(`routes without fuzz traffic: ${missing.join(', ')}`)
}

/** After a run: `/health` is 200, the database file is intact and the audit chain verifies. */
export async function assertWorldHealthy(world: FuzzWorld): Promise<void> {
  const health = await world.app.request('/health')
  if (health.status !== 200)
    throw new Error(`/health answered ${health.status}: ${await health.text()}`)
  const integrity = await world.integrityCheck()
  if (integrity !== 'ok') throw new Error(`integrity check on ${world.database}: ${integrity}`)
  const verification = await world.core.audit.verify()
  if (!verification.ok) {
    throw new Error(`audit chain broken: ${JSON.stringify(verification.problem)}`)
  }
}

/** A per-route table of request and status counts. */
export function formatStats(stats: FuzzStats): string {
  const lines = [`requests: ${stats.requests}, 5xx: ${stats.fiveXx}`]
  for (const label of fuzzOperations().map(operationLabel)) {
    const statuses = [...(stats.statuses.get(label) ?? new Map<number, number>())]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ')
    lines.push(
      `  ${label.padEnd(42)} ${String(stats.perRoute.get(label) ?? 0).padStart(6)}  ${statuses}`,
    )
  }
  if (stats.undocumented.size > 0) {
    lines.push('statuses openapi.yaml does not list for the operation:')
    for (const [key, n] of [...stats.undocumented].sort()) lines.push(`  ${key} ×${n}`)
  }
  const unmatched = [...stats.unmatched].map(([key, n]) => `${key} ×${n}`).sort()
  if (unmatched.length > 0) lines.push(`malformed paths routed elsewhere: ${unmatched.join(', ')}`)
  return lines.join('\n')
}
