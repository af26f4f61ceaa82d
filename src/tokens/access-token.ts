import { createPublicKey } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import { API_KEY_PERMISSIONS } from '../api-keys/permissions.js'
import type { ApiKeyPermission } from '../domain/records.js'
import { UsersError } from '../errors.js'
import type { Clock } from '../lib/clock.js'
import type { PublicJwk } from '../types.js'
import { type JwsVerifier, verifyCompactJws } from './jws.js'

/** The claims of an access token, all present except `sid` for API-key tokens (SPEC §4.1). */
export interface AccessTokenClaims {
  iss: string
  /** The user id. */
  sub: string
  aud: string[]
  exp: number
  iat: number
  nbf: number
  jti: string
  username: string
  email: string | null
  roles: string[]
  /** Space-separated: base scopes, then role scopes. */
  scope: string
  /** The session id; absent for tokens obtained with an API key. */
  sid?: string
  /** The API key a token was exchanged for (SPEC §5); absent for login tokens. */
  api_key_id?: string
  /** That key's permissions, for services that attenuate as users-core does; absent for login tokens. */
  permissions?: ApiKeyPermission[]
}

/** What {@link buildAccessTokenClaims} needs; `now` and `jti` come from the injected clock/random. */
export interface AccessTokenClaimsInput {
  issuer: string
  audience: readonly string[]
  user: { id: string; username: string; email: string | null }
  roles: readonly string[]
  scope: string
  sessionId?: string | undefined
  apiKeyId?: string | undefined
  permissions?: readonly ApiKeyPermission[] | undefined
  jti: string
  now: Date
  ttlSeconds: number
}

/** Builds the claims of an access token in SPEC §4.1 order; `aud` is always an array. */
export function buildAccessTokenClaims(input: AccessTokenClaimsInput): AccessTokenClaims {
  const iat = Math.floor(input.now.getTime() / 1000)
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.user.id,
    aud: [...input.audience],
    exp: iat + input.ttlSeconds,
    iat,
    nbf: iat,
    jti: input.jti,
    username: input.user.username,
    email: input.user.email,
    roles: [...input.roles],
    scope: input.scope,
  }
  if (input.sessionId !== undefined) claims.sid = input.sessionId
  if (input.apiKeyId !== undefined) claims.api_key_id = input.apiKeyId
  if (input.permissions !== undefined) claims.permissions = [...input.permissions]
  return claims
}

/** The typed claims of an access token whose signature, header and claims all checked out. */
export type VerifiedAccessToken = AccessTokenClaims

/**
 * Leeway on `exp`/`nbf`. Instances behind a load balancer have slightly different clocks; with
 * nbf = iat, a token used at once on another instance could look "not yet valid" without it.
 * 5 s is well under NTP-synced drift budgets and adds nothing meaningful to a token's life.
 */
export const CLOCK_TOLERANCE_SECONDS = 5

/** How many verified tokens each verifier remembers (oldest forgotten first). */
const VERIFIED_CACHE_SIZE = 10_000

/** Tokens longer than this are rejected before parsing: ours are ~1 KB, this stops junk early. */
const MAX_TOKEN_LENGTH = 8192

/** Verifies access tokens against a fixed set of public keys. */
export interface AccessTokenVerifier {
  /** The kids this verifier knows. */
  readonly kids: ReadonlySet<string>
  /** Resolves the verified token or rejects with UNAUTHORIZED. */
  verify(token: string): Promise<VerifiedAccessToken>
}

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  keys: readonly PublicJwk[]
  issuer: string
  /** Accepted audiences: the token must name at least one. */
  audience: readonly string[]
  clock: Clock
}

/** The UNAUTHORIZED error every verification failure becomes; it says nothing about why. */
export function invalidAccessToken(expired = false): UsersError {
  return new UsersError('UNAUTHORIZED', {
    message: expired ? 'The access token has expired.' : 'The access token is invalid.',
  })
}

/**
 * The `kid` in a token's header, read WITHOUT verifying anything; only for deciding whether the
 * key set should be reloaded. Undefined when the token is not a compact JWS with a string kid.
 */
export function peekKid(token: string): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined
  try {
    const { kid } = decodeProtectedHeader(token)
    return typeof kid === 'string' && kid !== '' ? kid : undefined
  } catch {
    return undefined
  }
}

/**
 * Creates a verifier over a fixed key set: the signature is checked with synchronous node:crypto
 * ({@link verifyCompactJws}: algorithm pinned per key, `typ` JWT), then the registered claims the
 * way jose's `jwtVerify` would — `iss` equal, `aud` naming one of ours, `exp` and `nbf` against the
 * injected clock with {@link CLOCK_TOLERANCE_SECONDS}, and `sub`, `jti`, `iat` present.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const keys = new Map<string, JwsVerifier>(
    options.keys.map((k) => [
      k.kid,
      { algorithm: k.alg, publicKey: createPublicKey({ key: { ...k }, format: 'jwk' }) },
    ]),
  )
  const audience = new Set(options.audience)
  // Clients present the same token for its whole life: its signature and static claims are
  // checked once per key set (the cache goes with this verifier), the clock on every use.
  const verified = new Map<string, AccessTokenClaims>()

  const verify = async (token: string): Promise<VerifiedAccessToken> => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalidAccessToken()
    let claims = verified.get(token)
    if (claims === undefined) {
      const payload = verifyCompactJws(token, keys)
      claims = payload ? readClaims(payload) : undefined
      if (!claims || claims.iss !== options.issuer || !claims.aud.some((a) => audience.has(a))) {
        throw invalidAccessToken()
      }
      if (verified.size >= VERIFIED_CACHE_SIZE) {
        verified.delete(verified.keys().next().value as string)
      }
      verified.set(token, claims)
    }
    const now = options.clock.now().getTime() / 1000
    if (claims.nbf > now + CLOCK_TOLERANCE_SECONDS) throw invalidAccessToken()
    if (claims.exp <= now - CLOCK_TOLERANCE_SECONDS) throw invalidAccessToken(true)
    return claims
  }
  return { kids: new Set(keys.keys()), verify }
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString)
const isPermissionArray = (v: unknown): v is ApiKeyPermission[] =>
  Array.isArray(v) && v.every((p) => API_KEY_PERMISSIONS.includes(p))

/** Checks the shape of every claim; values of the registered ones are checked by the caller. */
function readClaims(p: Record<string, unknown>): AccessTokenClaims | undefined {
  const aud = isString(p.aud) ? [p.aud] : p.aud
  if (
    !isString(p.iss) ||
    !isString(p.sub) ||
    !isStringArray(aud) ||
    typeof p.exp !== 'number' ||
    typeof p.iat !== 'number' ||
    typeof p.nbf !== 'number' ||
    !isString(p.jti) ||
    !isString(p.username) ||
    !(p.email === null || isString(p.email)) ||
    !isStringArray(p.roles) ||
    !isString(p.scope) ||
    !(p.sid === undefined || isString(p.sid)) ||
    !(p.api_key_id === undefined || isString(p.api_key_id)) ||
    !(p.permissions === undefined || isPermissionArray(p.permissions))
  ) {
    return undefined
  }
  const claims: AccessTokenClaims = {
    iss: p.iss,
    sub: p.sub,
    aud,
    exp: p.exp,
    iat: p.iat,
    nbf: p.nbf,
    jti: p.jti,
    username: p.username,
    email: p.email,
    roles: p.roles,
    scope: p.scope,
  }
  if (p.sid !== undefined) claims.sid = p.sid
  if (p.api_key_id !== undefined) claims.api_key_id = p.api_key_id
  if (p.permissions !== undefined) claims.permissions = p.permissions
  return claims
}
