import { UsersError } from '../errors.js'
import { type LimiterFactory, memoryLimiterFactory } from './login-lockout.js'

/** Taken-address answers a non-admin gets per hour before every email change is refused. */
export const EMAIL_CONFLICTS_PER_HOUR = 5

/**
 * A per-user budget of email conflicts: a 409 on `PUT /users/<self> {email}` says the address
 * is registered, so a non-admin may learn that only a few times an hour. Once spent, any email
 * change answers RATE_LIMITED, taken or not, so the refusal itself tells nothing.
 */
export interface EmailConflictBudget {
  /** Throws RATE_LIMITED while `userId` has no conflict left. */
  assertAvailable(userId: string): Promise<void>
  /** Spends one conflict of `userId`. */
  record(userId: string): Promise<void>
}

/** Creates the budget over a limiter store (the lockout's: memory, or Redis when configured). */
export function createEmailConflictBudget(options: {
  limiters?: LimiterFactory
}): EmailConflictBudget {
  const limiter = (options.limiters ?? memoryLimiterFactory)({
    keyPrefix: 'users_core_email_conflicts',
    points: EMAIL_CONFLICTS_PER_HOUR,
    duration: 3600,
  })
  return {
    async assertAvailable(userId) {
      const state = await limiter.get(userId)
      if (state && state.consumedPoints >= EMAIL_CONFLICTS_PER_HOUR) {
        throw new UsersError('RATE_LIMITED', {
          retryAfterSeconds: Math.max(1, Math.ceil(state.msBeforeNext / 1000)),
        })
      }
    },
    async record(userId) {
      await limiter.penalty(userId, 1)
    },
  }
}
