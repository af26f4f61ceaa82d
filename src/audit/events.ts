import { v7 as timeOrderedUuid } from 'uuid'
import type { AuditActor, AuditEventInput, AuditEventType } from '../domain/records.js'
import type { Clock } from '../lib/clock.js'
import type { Random } from '../lib/random.js'
import type { RequestContext } from '../types.js'

/** Details keys that must never reach an audit row, whatever a caller passes (SPEC §8). */
const SECRET_DETAIL_KEYS = /pass|secret|token|hash|key$|^key|authorization/i

/** Builds audit events from request context: actor, IP, user agent and request id. */
export interface AuditEventFactory {
  build(
    type: AuditEventType,
    userId: string | null,
    ctx?: RequestContext,
    details?: Record<string, unknown>,
  ): AuditEventInput
}

/** Creates the factory over the injected clock and randomness. */
export function createAuditEventFactory(clock: Clock, random: Random): AuditEventFactory {
  return {
    build(type, userId, ctx, details = {}) {
      const at = clock.now()
      return {
        // Time-ordered (v7) so a new id appends to the id index instead of dirtying a random page.
        id: timeOrderedUuid({ msecs: at.getTime(), random: random.bytes(16) }),
        at,
        type,
        actor: actorOf(ctx),
        userId,
        ip: ctx?.ip ?? null,
        userAgent: ctx?.userAgent ? ctx.userAgent.slice(0, 512) : null,
        requestId: ctx?.requestId ?? null,
        details: redactDetails(details),
      }
    },
  }
}

function actorOf(ctx: RequestContext | undefined): AuditActor {
  const actor = ctx?.actor
  if (!actor) return { type: ctx?.ip ? 'anonymous' : 'system', id: null }
  if (actor.kind === 'api_key' && actor.apiKey) return { type: 'api_key', id: actor.apiKey.id }
  return { type: 'user', id: actor.user.id }
}

/** Drops any detail whose name suggests a secret; details are for ids, names and reasons. */
export function redactDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_DETAIL_KEYS.test(k) && k !== 'key_prefix' && k !== 'api_key_id') continue
    if (v !== undefined) out[k] = v
  }
  return out
}
