import { UsersError } from '../../errors.js'
import type { Principal } from '../../types.js'
import { authorizeSelfOrAdmin } from '../authz.js'
import { ipKey, rateLimit } from '../middleware/rate-limit.js'
import { emptyBody, mfaVerifyBody, totpConfirmBody, webauthnRegistrationBody } from '../schemas.js'
import { factorConfirmationToWire, mfaFactorToWire, tokenResponseToWire } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import { enforce, jsonBody, pathId, requestContext, requirePrincipal } from './input.js'

/**
 * Enrolment is the user's own act, with their own login (SPEC §12): not an admin's, and not an
 * API key's, which acts for a service rather than the person who will hold the factor.
 */
function enforceEnrolment(principal: Principal, method: string, userId: string): void {
  enforce(authorizeSelfOrAdmin(principal, method, userId))
  if (principal.user.id !== userId || principal.kind !== 'access_token' || principal.apiKey) {
    throw new UsersError('FORBIDDEN', {
      message: 'Forbidden: only the user themself, signed in, may enrol second factors.',
    })
  }
}

/** `/users/:id/mfa/*` and `POST /auth/mfa/verify` (SPEC §12). */
export function registerMfaRoutes(app: App, { core, limiter }: RouteDeps): void {
  const { mfa } = core

  // The second step of a login has the login's per-IP budget (SPEC §2).
  if (limiter) app.post('/auth/mfa/verify', rateLimit({ limiter: limiter.login, key: ipKey }))
  app.post('/auth/mfa/verify', async (c) => {
    const body = jsonBody(c, mfaVerifyBody)
    const token = await mfa.verify(
      body.method === 'webauthn'
        ? { mfaToken: body.mfa_token, method: body.method, assertion: body.assertion }
        : { mfaToken: body.mfa_token, method: body.method, code: body.code },
      requestContext(c),
    )
    // RFC 6749 §5.1: token responses must not be cached anywhere.
    c.header('Cache-Control', 'no-store')
    c.header('Pragma', 'no-cache')
    return c.json(tokenResponseToWire(token), 200)
  })

  app.get('/users/:id/mfa', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    const status = await mfa.status(pathId(c, 'id'))
    return c.json(
      {
        enabled: status.enabled,
        factors: status.factors.map(mfaFactorToWire),
        recovery_codes_remaining: status.recoveryCodesRemaining,
      },
      200,
    )
  })

  app.post('/users/:id/mfa/totp', async (c) => {
    enforceEnrolment(requirePrincipal(c), c.req.method, c.req.param('id'))
    jsonBody(c, emptyBody)
    const enrolment = await mfa.enrollTotp(pathId(c, 'id'), requestContext(c))
    return c.json({ secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri }, 200)
  })

  app.post('/users/:id/mfa/totp/confirm', async (c) => {
    enforceEnrolment(requirePrincipal(c), c.req.method, c.req.param('id'))
    const body = jsonBody(c, totpConfirmBody)
    const confirmed = await mfa.confirmTotp(pathId(c, 'id'), body.code, requestContext(c))
    return c.json(factorConfirmationToWire(confirmed), 200)
  })

  app.delete('/users/:id/mfa/totp', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    await mfa.removeTotp(pathId(c, 'id'), requestContext(c))
    return c.body(null, 204)
  })

  app.post('/users/:id/mfa/webauthn/options', async (c) => {
    enforceEnrolment(requirePrincipal(c), c.req.method, c.req.param('id'))
    jsonBody(c, emptyBody)
    return c.json(await mfa.webauthnRegistrationOptions(pathId(c, 'id'), requestContext(c)), 200)
  })

  app.post('/users/:id/mfa/webauthn', async (c) => {
    enforceEnrolment(requirePrincipal(c), c.req.method, c.req.param('id'))
    const body = jsonBody(c, webauthnRegistrationBody)
    const registered = await mfa.registerWebauthn(
      pathId(c, 'id'),
      { response: body.response, ...(body.name === undefined ? {} : { name: body.name }) },
      requestContext(c),
    )
    return c.json(factorConfirmationToWire(registered), 201)
  })

  app.delete('/users/:id/mfa/factors/:factor_id', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    await mfa.removeFactor(pathId(c, 'id'), pathId(c, 'factor_id'), requestContext(c))
    return c.body(null, 204)
  })

  app.post('/users/:id/mfa/recovery-codes', async (c) => {
    enforceEnrolment(requirePrincipal(c), c.req.method, c.req.param('id'))
    jsonBody(c, emptyBody)
    const codes = await mfa.regenerateRecoveryCodes(pathId(c, 'id'), requestContext(c))
    return c.json({ recovery_codes: codes }, 200)
  })
}
