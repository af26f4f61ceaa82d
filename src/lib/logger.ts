import { type DestinationStream, type Logger, pino } from 'pino'

export type { Logger }

/** Log paths that may carry secrets; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  'password',
  'old_password',
  'new_password',
  'refresh_token',
  'access_token',
  'token',
  'key',
  'authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.password',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.key',
  '*.admin_password',
  '*.key_encryption_secret',
  '*.chain_key',
  // Second factors (SPEC §12): the pending login's token, TOTP secrets, recovery codes.
  'mfa_token',
  '*.mfa_token',
  '*.secret',
  '*.recovery_codes',
]

/** Creates the JSON-lines logger; `destination` defaults to standard output. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'users-core' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  )
}
