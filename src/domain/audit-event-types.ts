// Plain data with no runtime dependency, so the browser console can import it too.

/** Every audit event type of SPEC §8, §11 and §12. */
export const AUDIT_EVENT_TYPES = [
  'user.login.succeeded',
  'user.login.failed',
  'user.locked',
  'user.logout',
  'token.refreshed',
  'token.reuse_detected',
  'session.revoked',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.roles_changed',
  'user.password_changed',
  'user.password_change_failed',
  'user.email_conflict',
  'user.activated',
  'user.deactivated',
  'api_key.created',
  'api_key.revoked',
  'signing_key.rotated',
  'sip_credential.created',
  'sip_credential.revoked',
  'sip.auth.succeeded',
  'sip.auth.failed',
  'sip.ha1_read',
  'mfa.enrolled',
  'mfa.removed',
  'mfa.succeeded',
  'mfa.failed',
  'mfa.recovery_code_used',
] as const

/** One of {@link AUDIT_EVENT_TYPES}. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]
