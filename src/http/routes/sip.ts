import type { Context } from 'hono'
import { z } from 'zod'
import { hasPermission } from '../../api-keys/permissions.js'
import { UsersError } from '../../errors.js'
import { sipDigestFields, sipLabelSchema, sipUsernameSchema } from '../../sip/validation.js'
import type { Principal, SipCredentialInfo, SipDigestResult } from '../../types.js'
import { authorizeSelfOrAdmin, isAdmin } from '../authz.js'
import type { AppEnv } from '../context.js'
import { isoTime } from '../wire.js'
import type { App, RouteDeps } from './deps.js'
import { enforce, jsonBody, pathId, query, requestContext, requirePrincipal } from './input.js'

const createBody = z.strictObject({
  label: sipLabelSchema,
  sip_username: sipUsernameSchema.optional(),
})
const { sourceIp, ...digestFields } = sipDigestFields
const verifyBody = z.strictObject({ ...digestFields, source_ip: sourceIp })
const ha1Query = z.strictObject({
  username: sipDigestFields.username,
  realm: sipDigestFields.realm,
  algorithm: z.string().optional(),
})

/** SPEC §11 credential object: never the secret or an HA1. */
function credentialToWire(c: SipCredentialInfo) {
  return {
    id: c.id,
    user_id: c.userId,
    label: c.label,
    sip_username: c.sipUsername,
    realm: c.realm,
    created_at: isoTime(c.createdAt),
    last_used_at: isoTime(c.lastUsedAt),
    revoked: c.revoked,
  }
}

function resultToWire(r: SipDigestResult) {
  if (!r.valid) return { valid: false }
  return {
    valid: true,
    user_id: r.userId,
    username: r.username,
    sip_username: r.sipUsername,
    credential_id: r.credentialId,
    roles: r.roles,
  }
}

/**
 * The registrar routes take an API key holding `sip` by name (`*` does not imply it); the HA1
 * lookup also needs the key's owner to be an admin, since an HA1 is password-equivalent.
 */
function requireSipKey(c: Context<AppEnv>, needsAdminOwner: boolean): Principal {
  const principal = requirePrincipal(c)
  if (principal.kind !== 'api_key' || !hasPermission(principal.permissions, 'sip')) {
    throw new UsersError('FORBIDDEN', {
      message: 'Forbidden: this route takes an API key with the sip permission.',
    })
  }
  if (needsAdminOwner && !principal.user.roles.includes('admin')) {
    throw new UsersError('FORBIDDEN', {
      message: 'Forbidden: HA1 lookups need a sip key owned by an admin.',
    })
  }
  return principal
}

/** `/users/:id/sip-credentials`, `/sip-credentials/:id`, `/sip/digest/verify`, `/sip/ha1` (SPEC §11). */
export function registerSipRoutes(app: App, { core }: RouteDeps): void {
  const requireUser = async (id: string) => {
    if (!(await core.users.get(id))) throw new UsersError('NOT_FOUND', { message: 'No such user.' })
  }

  app.post('/users/:id/sip-credentials', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    const body = jsonBody(c, createBody)
    const userId = pathId(c, 'id')
    await requireUser(userId)
    const created = await core.sip.createCredential(
      {
        userId,
        label: body.label,
        ...(body.sip_username === undefined ? {} : { sipUsername: body.sip_username }),
      },
      requestContext(c),
    )
    // The secret is shown this once: no cache may keep it.
    c.header('Cache-Control', 'no-store')
    return c.json({ credential: credentialToWire(created.credential), secret: created.secret }, 201)
  })

  app.get('/users/:id/sip-credentials', async (c) => {
    enforce(authorizeSelfOrAdmin(requirePrincipal(c), c.req.method, c.req.param('id')))
    const userId = pathId(c, 'id')
    await requireUser(userId)
    return c.json((await core.sip.listCredentials(userId)).map(credentialToWire), 200)
  })

  // Someone else's credential answers 404 like a missing one: a non-admin cannot know it exists.
  app.delete('/sip-credentials/:id', async (c) => {
    const principal = requirePrincipal(c)
    enforce(authorizeSelfOrAdmin(principal, c.req.method, principal.user.id))
    const credential = await core.sip.getCredential(pathId(c, 'id'))
    if (
      !credential ||
      credential.revoked ||
      (credential.userId !== principal.user.id && !isAdmin(principal))
    ) {
      throw new UsersError('NOT_FOUND', { message: 'No such SIP credential.' })
    }
    await core.sip.revokeCredential(credential.id, requestContext(c))
    return c.body(null, 204)
  })

  app.post('/sip/digest/verify', async (c) => {
    requireSipKey(c, false)
    const { source_ip, ...body } = jsonBody(c, verifyBody)
    const result = await core.sip.verifyDigest(
      { ...body, ...(source_ip === undefined ? {} : { sourceIp: source_ip }) },
      requestContext(c),
    )
    return c.json(resultToWire(result), 200)
  })

  app.get('/sip/ha1', async (c) => {
    requireSipKey(c, true)
    const q = query(c, ha1Query)
    const found = await core.sip.readHa1(
      {
        username: q.username,
        realm: q.realm,
        ...(q.algorithm === undefined ? {} : { algorithm: q.algorithm }),
      },
      requestContext(c),
    )
    if (!found) throw new UsersError('NOT_FOUND', { message: 'No such SIP credential.' })
    c.header('Cache-Control', 'no-store')
    return c.json({ ha1: found.ha1, user_id: found.userId }, 200)
  })
}
