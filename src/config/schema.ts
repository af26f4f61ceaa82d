import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { UsersError } from '../errors.js'
import { deepFreeze } from '../lib/freeze.js'
import { parseIpRange } from '../lib/ip-range.js'

// One schema is the single source of every key, its type, range and default (SPEC §2).

const port = z.number().int().min(0).max(65535)
const bindAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port')
  .refine((v) => port.safeParse(Number(v.slice(v.lastIndexOf(':') + 1))).success, 'invalid port')
const roleName = z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/)
const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scope tokens have no spaces')
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
const databaseUrl = z
  .string()
  .refine(
    (v) => v === 'sqlite::memory:' || /^sqlite:\/\/.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v),
    'expected sqlite://PATH, sqlite::memory: or postgres://...',
  )

const jwtSchema = z
  .object({
    issuer: z.string().min(1).default('https://users.rvoip.local'),
    audience: z.array(z.string().min(1)).min(1).default(['rvoip-api', 'rvoip-sip']),
    access_ttl_seconds: z.number().int().min(30).max(86_400).default(900),
    refresh_ttl_seconds: z.number().int().min(60).max(31_536_000).default(2_592_000),
    algorithm: z.enum(['RS256', 'ES256', 'EdDSA']).default('RS256'),
    key_rotation_days: z.number().int().min(0).max(3650).default(90),
    private_key_file: z.string().min(1).optional(),
    key_encryption_secret: z.string().min(16).optional(),
    refresh_reuse_grace_seconds: z.number().int().min(0).max(300).default(10),
    base_scopes: z.array(scope).default(['openid', 'profile', 'email', 'sip.register']),
    role_scopes: z.record(roleName, z.array(scope)).default({ admin: ['admin'] }),
  })
  .strict()

/** Largest `password.argon2_memory_cost` (1 GiB in KiB); also caps the memory of an imported hash. */
export const ARGON2_MAX_MEMORY_KIB = 1_048_576
/** Largest `password.argon2_time_cost`. */
export const ARGON2_MAX_TIME_COST = 20
// More hashing threads than this only queue on the cores and multiply the memory in use.
const MAX_CONCURRENT_HASHES = 4 * availableParallelism()

const passwordSchema = z
  .object({
    min_length: z.number().int().min(1).max(1024).default(8),
    max_length: z.number().int().min(1).max(4096).default(128),
    require_uppercase: z.boolean().default(true),
    require_lowercase: z.boolean().default(true),
    require_numbers: z.boolean().default(true),
    require_special: z.boolean().default(false),
    reject_common: z.boolean().default(true),
    argon2_memory_cost: z
      .number()
      .int()
      .min(64)
      .max(ARGON2_MAX_MEMORY_KIB, { error: `must be at most ${ARGON2_MAX_MEMORY_KIB} (1 GiB)` })
      .default(65_536),
    argon2_time_cost: z
      .number()
      .int()
      .min(1)
      .max(ARGON2_MAX_TIME_COST, { error: `must be at most ${ARGON2_MAX_TIME_COST}` })
      .default(3),
    argon2_parallelism: z.number().int().min(1).max(16).default(4),
    max_concurrent_hashes: z
      .number()
      .int()
      .min(0)
      .max(MAX_CONCURRENT_HASHES, {
        error: `must be at most ${MAX_CONCURRENT_HASHES} (4 × the CPUs available)`,
      })
      .default(0),
    max_queued_hashes: z.number().int().min(0).max(100_000).default(64),
  })
  .strict()

const apiSchema = z
  .object({
    cors_allow_origins: z.array(z.string().min(1)).default(['*']),
    trust_proxy: z.boolean().default(false),
    trusted_proxies: z
      .array(z.string().refine((v) => parseIpRange(v) !== null, 'expected an IP address or CIDR'))
      .default(['127.0.0.0/8', '::1/128']),
    max_body_bytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(65_536),
    metrics_public: z.boolean().default(false),
    docs_enabled: z.boolean().default(true),
    console_enabled: z.boolean().default(true),
    request_timeout_seconds: z.number().int().min(1).max(3600).default(30),
    headers_timeout_seconds: z.number().int().min(1).max(3600).default(10),
    keep_alive_timeout_seconds: z.number().int().min(1).max(600).default(5),
    max_connections: z.number().int().min(1).max(1_000_000).default(1024),
    max_connections_per_ip: z.number().int().min(1).max(1_000_000).default(64),
  })
  .strict()

const rateLimitSchema = z
  .object({
    enabled: z.boolean().default(true),
    requests_per_minute: z.number().int().min(1).max(1_000_000).default(600),
    login_requests_per_minute: z.number().int().min(1).max(1_000_000).default(30),
    max_failed_logins: z.number().int().min(1).max(1000).default(5),
    lockout_seconds: z
      .number()
      .int()
      .min(1)
      .max(86_400 * 7)
      .default(900),
    redis_url: z
      .string()
      .regex(/^rediss?:\/\/.+/, 'expected redis://...')
      .optional(),
  })
  .strict()

const apiKeysSchema = z
  .object({
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - only')
      .default('rvoip_ak_live_'),
  })
  .strict()

const auditSchema = z
  .object({
    retention_days: z.number().int().min(1).max(36_500).default(365),
    // The HMAC key of the audit chain; kept out of the database it protects.
    chain_key: z.string().min(32).max(1024).optional(),
  })
  .strict()

const bootstrapSchema = z
  .object({
    admin_username: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,32}$/)
      .default('admin'),
    admin_password: z.string().min(1).optional(),
  })
  .strict()

const sipSchema = z
  .object({
    // A digest realm travels inside quoted strings of SIP headers: printable, no quote or backslash.
    realm: z
      .string()
      .regex(
        /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/,
        'printable ASCII without spaces, quotes or backslashes',
      )
      .default('rvoip'),
    max_failed_auths: z.number().int().min(1).max(1000).default(10),
  })
  .strict()

const tlsSchema = z
  .object({ cert_path: z.string().min(1).optional(), key_path: z.string().min(1).optional() })
  .strict()

const mfaSchema = z.object({ issuer: z.string().min(1).max(64).default('RVoIP') }).strict()

// Defaults derive from public_url after parsing (SPEC §2), so both stay optional here.
const webauthnSchema = z
  .object({
    rp_id: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a host name')
      .optional(),
    origins: z.array(z.url()).min(1).optional(),
  })
  .strict()

/** The `[users_core]` table: every key optional, defaults as in SPEC §2. */
export const configSchema = z
  .object({
    database_url: databaseUrl.default('sqlite://users.db'),
    database_pool_size: z.number().int().min(1).max(1000).default(10),
    api_bind_address: bindAddress.default('127.0.0.1:8081'),
    public_url: z.url().optional(),
    log_level: logLevel.default('info'),
    jwt: jwtSchema.prefault({}),
    password: passwordSchema.prefault({}),
    api: apiSchema.prefault({}),
    rate_limit: rateLimitSchema.prefault({}),
    api_keys: apiKeysSchema.prefault({}),
    audit: auditSchema.prefault({}),
    bootstrap: bootstrapSchema.prefault({}),
    tls: tlsSchema.prefault({}),
    sip: sipSchema.prefault({}),
    mfa: mfaSchema.prefault({}),
    webauthn: webauthnSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.password.max_length < c.password.min_length) {
      ctx.addIssue({
        code: 'custom',
        path: ['password', 'max_length'],
        message: 'must be at least password.min_length',
      })
    }
    if (c.password.argon2_memory_cost < 8 * c.password.argon2_parallelism) {
      ctx.addIssue({
        code: 'custom',
        path: ['password', 'argon2_memory_cost'],
        message: 'must be at least 8 × argon2_parallelism KiB',
      })
    }
    if (c.jwt.refresh_ttl_seconds < c.jwt.access_ttl_seconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwt', 'refresh_ttl_seconds'],
        message: 'must be at least jwt.access_ttl_seconds',
      })
    }
    if (c.api.headers_timeout_seconds > c.api.request_timeout_seconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['api', 'headers_timeout_seconds'],
        message: 'must be at most api.request_timeout_seconds',
      })
    }
    if (c.api.max_connections_per_ip > c.api.max_connections) {
      ctx.addIssue({
        code: 'custom',
        path: ['api', 'max_connections_per_ip'],
        message: 'must be at most api.max_connections',
      })
    }
    if (Boolean(c.tls.cert_path) !== Boolean(c.tls.key_path)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: 'tls.cert_path and tls.key_path must be set together',
      })
    }
  })

/** What callers may pass: the TOML table's shape with every key optional. */
export type ConfigInput = z.input<typeof configSchema>

/** The parsed, defaulted and frozen configuration. */
export type Config = Readonly<
  z.output<typeof configSchema> & {
    public_url: string
    password: z.output<typeof passwordSchema> & { max_concurrent_hashes: number }
    webauthn: { rp_id: string; origins: string[] }
  }
>

/**
 * SPEC §2: the RP ID is the host of `public_url`, or `localhost` when that host is an IP address
 * (WebAuthn accepts only a domain as RP ID).
 */
export function defaultRpId(publicUrl: string): string {
  const host = new URL(publicUrl).hostname
  return isIP(host.replace(/^\[|\]$/g, '')) !== 0 ? 'localhost' : host
}

/**
 * Validates and freezes a configuration object; throws a VALIDATION_ERROR naming every bad key
 * at once. `max_concurrent_hashes = 0` is resolved to the number of CPUs here.
 */
export function parseConfig(input: unknown = {}): Config {
  const result = configSchema.safeParse(input ?? {})
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => ({
          key: [...issue.path, k].join('.'),
          message: 'unknown key',
        }))
      }
      return [{ key: issue.path.join('.') || '(root)', message: issue.message }]
    })
    throw new UsersError('VALIDATION_ERROR', {
      message: `invalid configuration: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`,
      details: problems,
    })
  }
  const c = result.data
  const publicUrl = (c.public_url ?? `http://${c.api_bind_address}`).replace(/\/+$/, '')
  const config = {
    ...c,
    public_url: publicUrl,
    webauthn: {
      rp_id: c.webauthn.rp_id ?? defaultRpId(publicUrl),
      origins: (c.webauthn.origins ?? [publicUrl]).map((o) => new URL(o).origin),
    },
    password: {
      ...c.password,
      max_concurrent_hashes: c.password.max_concurrent_hashes || availableParallelism(),
    },
  }
  return deepFreeze(config) as Config
}
