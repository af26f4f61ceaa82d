import type { AuditEventFactory } from '../audit/events.js'
import type { AuditEventInput, UserRecord } from '../domain/records.js'
import type { Store } from '../domain/store.js'
import type { RequestContext } from '../types.js'
import type { LoginLockout } from './login-lockout.js'

/**
 * A wrong secret of a known user (an old password, a second-factor code) counts against the
 * same (username, IP) lockout as a wrong login password, so no second door guesses for free.
 * Writes `failure` and, when this failure locks the pair, `user.locked`; returns the lock.
 */
export async function recordCountedFailure(
  deps: { lockout: LoginLockout; store: Pick<Store, 'appendAudit'>; audit: AuditEventFactory },
  user: UserRecord,
  failure: AuditEventInput,
  ctx: RequestContext | undefined,
): Promise<{ locked: boolean; retryAfterSeconds: number }> {
  const lock = await deps.lockout.recordFailure(user.username, ctx?.ip)
  const events = [failure]
  if (lock.locked) {
    events.push(
      deps.audit.build('user.locked', user.id, ctx, {
        username: user.username,
        lockout_seconds: lock.retryAfterSeconds,
      }),
    )
  }
  await deps.store.appendAudit(events)
  return lock
}
