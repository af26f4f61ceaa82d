// The library's public entry (SPEC §9): named exports only; the list is pinned by a test.
export { loadConfig } from './config/load.js'
export type { Config, ConfigInput } from './config/schema.js'
export { parseConfig } from './config/schema.js'
export { type InitOptions, init } from './core.js'
export { ERROR_STATUS, type ErrorCode, isUsersError, UsersError } from './errors.js'
export type {
  ApiKeyInfo,
  ApiKeyPermission,
  ApiKeyTokenResponse,
  AuditEvent,
  AuditFilter,
  AuditVerification,
  CoreEvent,
  CreateApiKeyInput,
  CreateUserInput,
  ExportedUser,
  FactorConfirmation,
  ImportResult,
  ImportUserInput,
  IntrospectionResult,
  MfaChallengeDetails,
  MfaFactor,
  MfaMethod,
  MfaStatus,
  MfaVerifyInput,
  Page,
  PasswordChangeOptions,
  Principal,
  PublicJwk,
  RequestContext,
  SessionInfo,
  SigningAlgorithm,
  SigningKeyInfo,
  TokenResponse,
  TotpEnrolment,
  UpdateUserInput,
  User,
  UserFilter,
  UsersCore,
} from './types.js'
