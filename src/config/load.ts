import { existsSync, readFileSync } from 'node:fs'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'
import { UsersError } from '../errors.js'
import { type Config, configSchema, parseConfig } from './schema.js'

// The only module outside cli/ that reads the environment or a file, and only when called.

type Leaf = 'string' | 'number' | 'boolean' | 'list' | 'map'

/** Every leaf key as `section.key` with its value kind, read off the schema. */
export const CONFIG_KEYS: ReadonlyMap<string, Leaf> = (() => {
  const keys = new Map<string, Leaf>()
  const walk = (obj: z.ZodObject, prefix: string) => {
    for (const [name, field] of Object.entries(obj.shape)) {
      const inner = unwrap(field as z.ZodType)
      const key = prefix ? `${prefix}.${name}` : name
      if (inner instanceof z.ZodObject) walk(inner, key)
      else keys.set(key, leafKind(inner))
    }
  }
  walk(unwrap(configSchema) as z.ZodObject, '')
  return keys
})()

function unwrap(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t
  for (;;) {
    if (
      cur instanceof z.ZodDefault ||
      cur instanceof z.ZodOptional ||
      cur instanceof z.ZodPrefault
    ) {
      cur = cur.unwrap() as z.ZodType
    } else if (cur instanceof z.ZodPipe) {
      cur = cur.in as z.ZodType
    } else return cur
  }
}

function leafKind(t: z.ZodType): Leaf {
  if (t instanceof z.ZodNumber) return 'number'
  if (t instanceof z.ZodBoolean) return 'boolean'
  if (t instanceof z.ZodArray) return 'list'
  if (t instanceof z.ZodRecord) return 'map'
  return 'string'
}

/** `jwt.issuer` → `USERS_CORE_JWT_ISSUER`. */
export function envName(key: string): string {
  return `USERS_CORE_${key.replace(/\./g, '_').toUpperCase()}`
}

const ENV_ALIASES: Readonly<Record<string, string>> = {
  USERS_CORE_ADMIN_PASSWORD: 'bootstrap.admin_password',
  USERS_CORE_ADMIN_USERNAME: 'bootstrap.admin_username',
}
const ENV_NOT_KEYS = new Set(['USERS_CORE_CONFIG'])

/** Converts a string (from env or a flag) to the kind the key expects; invalid stays a string. */
export function coerceValue(key: string, raw: string): unknown {
  const kind = CONFIG_KEYS.get(key)
  switch (kind) {
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true
      if (/^(false|0|no|off)$/i.test(raw)) return false
      return raw
    case 'list':
      if (raw.trim().startsWith('[')) return tryJson(raw)
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    case 'map':
      return tryJson(raw)
    default:
      return raw
  }
}

function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let obj = target
  for (const part of parts.slice(0, -1)) {
    const next = obj[part]
    if (!next || typeof next !== 'object' || Array.isArray(next)) obj[part] = {}
    obj = obj[part] as Record<string, unknown>
  }
  obj[parts[parts.length - 1] as string] = value
}

/** Reads `USERS_CORE_*` variables into a partial config; unknown names are returned apart. */
export function configFromEnv(env: NodeJS.ProcessEnv): {
  values: Record<string, unknown>
  unknown: string[]
} {
  const byEnv = new Map<string, string>()
  for (const key of CONFIG_KEYS.keys()) byEnv.set(envName(key), key)
  for (const [name, key] of Object.entries(ENV_ALIASES)) byEnv.set(name, key)
  const values: Record<string, unknown> = {}
  const unknown: string[] = []
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('USERS_CORE_') || raw === undefined || ENV_NOT_KEYS.has(name)) continue
    const key = byEnv.get(name)
    if (!key) {
      unknown.push(name)
      continue
    }
    setPath(values, key, coerceValue(key, raw))
  }
  return { values, unknown }
}

/** Merges `b` over `a`, table by table; arrays and scalars are replaced whole. */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k]
    const isTable = (x: unknown) => x && typeof x === 'object' && !Array.isArray(x)
    out[k] =
      isTable(prev) && isTable(v) && k !== 'role_scopes'
        ? mergeConfig(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v
  }
  return out
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** `--config PATH`; else `USERS_CORE_CONFIG`; else `./users_core.toml` when it exists. */
  configPath?: string | undefined
  env?: NodeJS.ProcessEnv
  /** Flag overrides as dotted keys (`jwt.issuer`) with raw string or typed values. */
  flags?: Record<string, unknown>
  cwd?: string
}

/** The parsed configuration plus where it came from. */
export interface LoadedConfig {
  config: Config
  file: string | undefined
  unknownEnv: string[]
}

/**
 * Builds the configuration from defaults < TOML file < environment < flags (SPEC §2). Used by the
 * CLI and server only: the library never reads files or the environment on its own.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? {}
  const cwd = options.cwd ?? process.cwd()
  const explicit = options.configPath ?? env.USERS_CORE_CONFIG
  const fallback = `${cwd}/users_core.toml`
  const file = explicit ?? (existsSync(fallback) ? fallback : undefined)
  let fromFile: Record<string, unknown> = {}
  if (file) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (cause) {
      throw new UsersError('VALIDATION_ERROR', {
        message: `cannot read config file ${file}: ${(cause as Error).message}`,
      })
    }
    let doc: Record<string, unknown>
    try {
      doc = parseToml(text) as Record<string, unknown>
    } catch (cause) {
      throw new UsersError('VALIDATION_ERROR', {
        message: `config file ${file} is not valid TOML: ${(cause as Error).message}`,
      })
    }
    const extra = Object.keys(doc).filter((k) => k !== 'users_core')
    if (extra.length > 0) {
      throw new UsersError('VALIDATION_ERROR', {
        message: `invalid configuration: ${extra.map((k) => `${k}: unknown table (keys live under [users_core])`).join('; ')}`,
      })
    }
    fromFile = (doc.users_core ?? {}) as Record<string, unknown>
  }
  const { values: fromEnv, unknown } = configFromEnv(env)
  const fromFlags: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options.flags ?? {})) {
    setPath(fromFlags, key, typeof value === 'string' ? coerceValue(key, value) : value)
  }
  const merged = mergeConfig(mergeConfig(fromFile, fromEnv), fromFlags)
  return { config: parseConfig(merged), file, unknownEnv: unknown }
}
