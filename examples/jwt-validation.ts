// An auth-core-style validator: a downstream service that trusts users-core only through its JWKS
// URL and checks every token itself (SPEC §1, §4.1): signature, `iss`, `aud`, `exp`, and the
// `sip.register` scope before it lets anyone register a SIP phone.
//
//   npx tsx examples/jwt-validation.ts                       starts its own users-core
//   npx tsx examples/jwt-validation.ts URL USER PASSWORD     validates tokens of a running one
import {
  createRemoteJWKSet,
  decodeJwt,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import { startLocalUsersCore } from './shared/local-users-core.js'

const ISSUER = process.env.EXAMPLE_ISSUER ?? 'https://users.rvoip.local'

/** What a validator is configured with: whom it trusts and who it is. */
interface ValidatorOptions {
  jwksUrl: string
  issuer: string
  /** This service's own name: a token must be meant for it. */
  audience: string
}

/** The claims users-core puts in every access token (SPEC §4.1). */
interface AccessClaims extends JWTPayload {
  sub: string
  username: string
  roles: string[]
  scope: string
  sid?: string
}

type Verdict = { ok: true; claims: AccessClaims } | { ok: false; reason: string }

/**
 * Builds a validator. The JWKS is fetched lazily, cached, and re-fetched when a token names an
 * unknown `kid` (a rotation) — users-core never has to be called per request.
 */
function createValidator(options: ValidatorOptions) {
  const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl))
  return async (
    token: string,
    check: { requireScope?: string; now?: Date } = {},
  ): Promise<Verdict> => {
    try {
      const { payload } = await jwtVerify<AccessClaims>(token, jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        typ: 'JWT',
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        clockTolerance: 5,
        ...(check.now ? { currentDate: check.now } : {}),
      })
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : []
      if (check.requireScope && !scopes.includes(check.requireScope)) {
        return { ok: false, reason: `missing scope ${check.requireScope}` }
      }
      return { ok: true, claims: payload }
    } catch (error) {
      if (error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired) {
        return { ok: false, reason: `${error.code}: ${error.claim} ${error.reason}` }
      }
      if (error instanceof errors.JOSEError) return { ok: false, reason: error.code }
      throw error
    }
  }
}

function show(label: string, verdict: Verdict): void {
  if (verdict.ok) {
    console.log(`${label}: accepted (sub ${verdict.claims.sub}, user ${verdict.claims.username})`)
  } else {
    console.log(`${label}: rejected (${verdict.reason})`)
  }
}

async function login(base: string, username: string, password: string) {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (res.status !== 200) throw new Error(`login as ${username}: HTTP ${res.status}`)
  return (await res.json()) as { access_token: string; expires_in: number }
}

/** Flips one character of the payload: same signature, different claims. */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.')
  if (!header || !payload || !signature) throw new Error('not a JWS')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  claims.roles = ['admin']
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
}

const [argUrl, argUser, argPassword] = process.argv.slice(2)
let base: string
let close = async () => {}
const username = argUser ?? 'alice'
const password = argPassword ?? 'Sunflower-Meadow-7'
let phonelessUser: { username: string; password: string } | undefined

if (argUrl) {
  base = argUrl.replace(/\/+$/, '')
  if (!argUser || !argPassword) throw new Error('usage: jwt-validation.ts URL USERNAME PASSWORD')
} else {
  // An operator who hands out `sip.register` per role instead of to everyone (SPEC §2 role_scopes).
  const local = await startLocalUsersCore({
    'jwt.issuer': ISSUER,
    'jwt.base_scopes': ['openid', 'profile', 'email'],
    'jwt.role_scopes': { admin: ['admin'], sip_user: ['sip.register'] },
  })
  base = local.url
  close = local.close
  await local.core.createUser({ username, password, roles: ['user', 'sip_user'] })
  phonelessUser = { username: 'webonly', password: 'Quiet-Library-19' }
  await local.core.createUser({ ...phonelessUser, roles: ['user'] })
  console.log(`users-core running at ${base}`)
}

try {
  const jwksUrl = `${base}/.well-known/jwks.json`
  console.log(`trusting issuer ${ISSUER} through ${jwksUrl}`)
  const sipRegistrar = createValidator({ jwksUrl, issuer: ISSUER, audience: 'rvoip-sip' })
  const billing = createValidator({ jwksUrl, issuer: ISSUER, audience: 'rvoip-billing' })
  const otherIssuer = createValidator({
    jwksUrl,
    issuer: 'https://evil.example',
    audience: 'rvoip-sip',
  })

  const token = await login(base, username, password)
  const claims = decodeJwt(token.access_token)
  console.log(
    `logged in as ${username}: aud ${JSON.stringify(claims.aud)}, scope "${claims.scope}"`,
  )

  show(
    'valid token for SIP',
    await sipRegistrar(token.access_token, { requireScope: 'sip.register' }),
  )
  const later = new Date(Date.now() + (token.expires_in + 60) * 1000)
  show('same token after exp', await sipRegistrar(token.access_token, { now: later }))
  show('tampered token', await sipRegistrar(tamper(token.access_token)))
  show('wrong audience (billing)', await billing(token.access_token))
  show('wrong issuer', await otherIssuer(token.access_token))
  show('not a JWT', await sipRegistrar('rvoip_ak_live_notajwt'))
  if (phonelessUser) {
    const web = await login(base, phonelessUser.username, phonelessUser.password)
    show(
      'token without sip.register',
      await sipRegistrar(web.access_token, { requireScope: 'sip.register' }),
    )
  }
  console.log('done')
} finally {
  await close()
}
