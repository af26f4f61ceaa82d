import { createPublicKey, type KeyObject } from 'node:crypto'
import { decodeProtectedHeader, errors, type JWTHeaderParameters, jwtVerify } from 'jose'
import { LRUCache } from 'lru-cache'
import { API_KEY_PERMISSIONS } from '../api-keys/permissions.js'
import type { ApiKeyPermission, SigningAlgorithm } from '../domain/records.js'
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
  /** That key's permissions, for services that attenuate as users-core does; absent for login tokens. */
  permissions?: ApiKeyPermission[]
  /** RFC 8176 authentication methods of an MFA login (`["pwd", "otp"]`); absent otherwise. */
  amr?: string[]
  /** The authentication context class of an MFA login (SPEC §12); absent otherwise. */
  acr?: string
}

/**
 * The `acr` of a token whose login used more than one factor: the OpenID PAPE multi-factor
 * policy, a name validators already know. Password-only tokens carry neither claim.
 */
export const MULTI_FACTOR_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'

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
  amr?: readonly string[] | undefined
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
  if (input.amr !== undefined && input.amr.length > 0) {
    claims.amr = [...input.amr]
    claims.acr = MULTI_FACTOR_ACR
  }
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

/** How many verified tokens each verifier remembers (least recently used forgotten first). */
const VERIFIED_CACHE_SIZE = 10_000

/** Tokens longer than this are rejected before parsing: ours are ~1 KB, this stops junk early. */
const MAX_TOKEN_LENGTH = 8192

/** The registered claims every access token carries; jose checks they are present. */
const REQUIRED_CLAIMS = ['sub', 'jti', 'iat', 'exp', 'nbf']

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
 * Creates a verifier over a fixed key set with jose's `jwtVerify`: the key is looked up by `kid`
 * with its algorithm pinned (so `none`, HS256-with-the-public-key and a key of another algorithm
 * never verify), `typ` JWT, `iss` equal, `aud` naming one of ours, `exp` and `nbf` against the
 * injected clock with {@link CLOCK_TOLERANCE_SECONDS}; then the shape of every claim.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const keys = new Map<string, { algorithm: SigningAlgorithm; publicKey: KeyObject }>(
    options.keys.map((k) => [
      k.kid,
      { algorithm: k.alg, publicKey: createPublicKey({ key: { ...k }, format: 'jwk' }) },
    ]),
  )
  const keyFor = (header: JWTHeaderParameters): KeyObject => {
    const key = header.kid === undefined ? undefined : keys.get(header.kid)
    if (!key || key.algorithm !== header.alg) throw new errors.JWKSNoMatchingKey()
    return key.publicKey
  }
  const algorithms = [...new Set(options.keys.map((k) => k.alg))]
  const audience = [...options.audience]
  // Clients present the same token for its whole life: its signature and claims are checked
  // once per key set (the cache goes with this verifier); a cached token outside its lifetime
  // goes back to jose, which says why it is refused.
  const verified = new LRUCache<string, AccessTokenClaims>({ max: VERIFIED_CACHE_SIZE })

  const verify = async (token: string): Promise<VerifiedAccessToken> => {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalidAccessToken()
    const currentDate = options.clock.now()
    const cached = verified.get(token)
    if (cached && withinLifetime(cached, currentDate)) return cached
    // jose decodes with atob, which ignores the unused bits of a last character: checked here.
    if (!token.split('.').every(isCanonicalSegment)) throw invalidAccessToken()
    let claims: AccessTokenClaims | undefined
    try {
      const { payload, protectedHeader } = await jwtVerify(token, keyFor, {
        algorithms,
        typ: 'JWT',
        issuer: options.issuer,
        audience,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate,
      })
      // jose compares typ as a media type (jwt, application/jwt); SPEC §4.1 says exactly JWT.
      if (protectedHeader.typ === 'JWT') claims = readClaims(payload)
    } catch (error) {
      throw invalidAccessToken(error instanceof errors.JWTExpired)
    }
    if (!claims) throw invalidAccessToken()
    verified.set(token, claims)
    return claims
  }
  return { kids: new Set(keys.keys()), verify }
}

/** jose's own `nbf`/`exp` test (whole seconds, with the tolerance), for a token it accepted. */
function withinLifetime(claims: AccessTokenClaims, at: Date): boolean {
  const now = Math.floor(at.getTime() / 1000)
  return claims.nbf <= now + CLOCK_TOLERANCE_SECONDS && claims.exp > now - CLOCK_TOLERANCE_SECONDS
}

const SEGMENT = /^[A-Za-z0-9_-]*$/
// The last character's value, by how many characters the segment has modulo 4 (RFC 4648 §3.5):
// with 2 the low 4 bits are unused, with 3 the low 2; they must be zero, so each token has one
// spelling. A length of 1 modulo 4 encodes no whole byte.
const LAST_CHARACTER = /[AQgw]$/
const LAST_OF_THREE = /[AEIMQUYcgkosw048]$/

/** True when `segment` is base64url (no padding) in its one canonical spelling. */
function isCanonicalSegment(segment: string): boolean {
  if (!SEGMENT.test(segment)) return false
  switch (segment.length % 4) {
    case 0:
      return true
    case 2:
      return LAST_CHARACTER.test(segment)
    case 3:
      return LAST_OF_THREE.test(segment)
    default:
      return false
  }
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString)
const isPermissionArray = (v: unknown): v is ApiKeyPermission[] =>
  Array.isArray(v) && v.every((p) => API_KEY_PERMISSIONS.includes(p))

/** Checks the shape of every claim; jose has checked the values of the registered ones. */
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
    !(p.permissions === undefined || isPermissionArray(p.permissions)) ||
    !(p.amr === undefined || isStringArray(p.amr)) ||
    !(p.acr === undefined || isString(p.acr))
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
  if (p.amr !== undefined) claims.amr = p.amr
  if (p.acr !== undefined) claims.acr = p.acr
  return claims
}
