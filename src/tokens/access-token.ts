import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose'
import { UsersError } from '../errors.js'
import type { Clock } from '../lib/clock.js'
import type { PublicJwk } from '../types.js'

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
export function invalidAccessToken(cause?: unknown): UsersError {
  if (cause instanceof errors.JWTExpired) {
    return new UsersError('UNAUTHORIZED', { message: 'The access token has expired.', cause })
  }
  return new UsersError('UNAUTHORIZED', { message: 'The access token is invalid.', cause })
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
 * Creates a verifier with jose `jwtVerify` over a local JWKS: algorithms pinned to those of the
 * keys (so `none` and HS256-with-the-public-key fail), `typ` must be JWT, `iss` and `aud` must
 * match, `exp`/`nbf` are checked against the injected clock, and `sub`, `jti`, `iat` must exist.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const keysByKid = new Map(options.keys.map((k) => [k.kid, k]))
  const jwks = createLocalJWKSet({ keys: options.keys.map((k) => ({ ...k })) })
  const algorithms = [...new Set(options.keys.map((k) => k.alg))]
  const audience = [...options.audience]

  const verify = async (token: string): Promise<VerifiedAccessToken> => {
    const kid = peekKid(token)
    if (kid === undefined || !keysByKid.has(kid)) throw invalidAccessToken()
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(token, jwks, {
        algorithms,
        typ: 'JWT',
        issuer: options.issuer,
        audience,
        currentDate: options.clock.now(),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'jti', 'iat', 'exp', 'nbf'],
      }))
    } catch (cause) {
      throw invalidAccessToken(cause)
    }
    const claims = readClaims(payload)
    if (!claims) throw invalidAccessToken()
    return claims
  }
  return { kids: new Set(keysByKid.keys()), verify }
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString)

/** Checks the shapes of our private claims; jose has checked the registered ones' values. */
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
    !(p.api_key_id === undefined || isString(p.api_key_id))
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
  return claims
}
