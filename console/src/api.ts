// The console's only way to the server: same-origin fetches of the public REST API (SPEC §6),
// with the session's tokens held in this module's memory and nowhere else (SPEC §13).

/** The SPEC §6.1 error envelope, as an exception the views can show. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  readonly requestId: string | undefined

  constructor(status: number, code: string, message: string, details: unknown, requestId?: string) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
    this.requestId = requestId
  }
}

/** The SPEC §6.2 user object. */
export interface User {
  id: string
  username: string
  email: string | null
  display_name: string | null
  roles: string[]
  active: boolean
  created_at: string
  updated_at: string
  last_login: string | null
}

/** The SPEC §6.2 token response. */
export interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
  scope: string
  user: User
}

/** A list route's page: its items, `X-Total-Count` and the path of `Link: rel="next"`. */
export interface Page<T> {
  items: T[]
  total: number
  next: string | undefined
}

interface Tokens {
  access: string
  refresh: string
}

// Refresh this long before the access token expires, so a request never carries a stale one.
const REFRESH_MARGIN_SECONDS = 30

let tokens: Tokens | undefined
let refreshTimer: ReturnType<typeof setTimeout> | undefined
let refreshing: Promise<boolean> | undefined
let pending = 0
const busyListeners = new Set<(busy: boolean) => void>()
let onSignedOut: (() => void) | undefined
let onUserChanged: ((user: User) => void) | undefined

/** Registers what happens when the session ends (a 401 the refresh could not cure, or logout). */
export function setSessionListeners(listeners: {
  signedOut: () => void
  userChanged: (user: User) => void
}): void {
  onSignedOut = listeners.signedOut
  onUserChanged = listeners.userChanged
}

/** Calls `listener` with true while any request is in flight (the progress bar). */
export function onBusyChange(listener: (busy: boolean) => void): () => void {
  busyListeners.add(listener)
  return () => busyListeners.delete(listener)
}

function track(delta: number): void {
  const was = pending > 0
  pending += delta
  if (was !== pending > 0) for (const l of busyListeners) l(pending > 0)
}

/** Keeps a fresh login's tokens and schedules their refresh. */
export function startSession(response: TokenResponse): void {
  tokens = { access: response.access_token, refresh: response.refresh_token }
  scheduleRefresh(response.expires_in)
  onUserChanged?.(response.user)
}

function scheduleRefresh(expiresInSeconds: number): void {
  clearTimeout(refreshTimer)
  const delaySeconds = Math.max(expiresInSeconds - REFRESH_MARGIN_SECONDS, expiresInSeconds / 2)
  refreshTimer = setTimeout(() => void refreshTokens(), delaySeconds * 1000)
}

/** Forgets the tokens and tells the app; the server side is `signOut`'s job. */
export function endSession(): void {
  clearTimeout(refreshTimer)
  tokens = undefined
  onSignedOut?.()
}

/** True while the console holds tokens. */
export function isSignedIn(): boolean {
  return tokens !== undefined
}

/** Rotates the refresh token (SPEC §4.3); one refresh at a time, shared by every caller. */
function refreshTokens(): Promise<boolean> {
  const held = tokens
  if (!held) return Promise.resolve(false)
  refreshing ??= (async () => {
    try {
      // Without the access token: it may be the expired one this refresh replaces.
      const result = await raw('POST', '/auth/refresh', { refresh_token: held.refresh }, false)
      if (tokens !== held || !result.response.ok) return false
      startSession(result.body as TokenResponse)
      return true
    } catch {
      return false
    } finally {
      refreshing = undefined
    }
  })()
  return refreshing
}

interface RawResult {
  response: Response
  body: unknown
}

async function raw(
  method: string,
  path: string,
  body: unknown,
  withToken = true,
): Promise<RawResult> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (tokens && withToken) headers.Authorization = `Bearer ${tokens.access}`
  track(1)
  try {
    let response: Response
    try {
      response = await fetch(sameOrigin(path), {
        method,
        headers,
        credentials: 'omit',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch {
      throw new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached.', undefined)
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = text
    }
    return { response, body: parsed }
  } finally {
    track(-1)
  }
}

/** A path of this origin only: absolute URLs (a `Link` built from `public_url`) keep their path. */
function sameOrigin(path: string): string {
  const url = new URL(path, window.location.origin)
  return `${url.pathname}${url.search}`
}

function toError(result: RawResult): ApiError {
  const { response, body } = result
  const envelope = body as { error?: { code?: string; message?: string; details?: unknown } }
  const requestId =
    (body as { request_id?: string } | undefined)?.request_id ??
    response.headers.get('X-Request-Id') ??
    undefined
  return new ApiError(
    response.status,
    envelope?.error?.code ?? `HTTP_${response.status}`,
    envelope?.error?.message ?? response.statusText,
    envelope?.error?.details,
    requestId,
  )
}

/**
 * One call with the session's access token; on 401 `UNAUTHORIZED` it refreshes once and retries,
 * and when that fails the session ends (the console signs out).
 */
async function call(method: string, path: string, body?: unknown): Promise<RawResult> {
  const hadSession = tokens !== undefined
  let result = await raw(method, path, body)
  if (result.response.status === 401 && hadSession && isUnauthorized(result)) {
    if (await refreshTokens()) result = await raw(method, path, body)
    if (result.response.status === 401 && isUnauthorized(result)) {
      endSession()
    }
  }
  if (!result.response.ok) throw toError(result)
  return result
}

function isUnauthorized(result: RawResult): boolean {
  return toError(result).code === 'UNAUTHORIZED'
}

/** A JSON call; resolves with the body (undefined for 204). */
export async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await call(method, path, body)).body as T
}

/** A GET of a paged list route (SPEC §6.2 `X-Total-Count`, `Link: <...>; rel="next"`). */
export async function page<T>(path: string): Promise<Page<T>> {
  const { response, body } = await call('GET', path)
  const items = Array.isArray(body) ? (body as T[]) : []
  const total = Number(response.headers.get('X-Total-Count') ?? items.length)
  return { items, total, next: nextLink(response.headers.get('Link')) }
}

/** The target of `rel="next"` in a `Link` header (RFC 8288), as a path of this origin. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined
  for (const part of header.split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part)
    if (match?.[1]) return sameOrigin(match[1])
  }
  return undefined
}

/** Ends the session on the server too (SPEC §6.2 `POST /auth/logout`), then forgets it. */
export async function signOut(): Promise<void> {
  try {
    if (tokens) await raw('POST', '/auth/logout', {})
  } finally {
    endSession()
  }
}

/** A query string from the set values of `params`. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value))
  }
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}
