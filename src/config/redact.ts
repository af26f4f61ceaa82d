import type { Config } from './schema.js'

/** Keys whose values never appear in logs or `config print`. */
export const SECRET_KEYS: readonly string[] = [
  'jwt.key_encryption_secret',
  'bootstrap.admin_password',
  'audit.chain_key',
]

/** Connection URLs: printed and logged with their credentials hidden by {@link redactUrl}. */
export const URL_KEYS: readonly string[] = ['database_url', 'rate_limit.redis_url']

/**
 * The effective config with every secret replaced by `"[redacted]"` and the credentials of every
 * connection URL hidden (for `config print`).
 */
export function redactConfig(config: Config): Record<string, unknown> {
  const copy = structuredClone(config) as unknown as Record<string, unknown>
  const replace = (key: string, redact: (value: unknown) => string) => {
    const parts = key.split('.')
    let obj: Record<string, unknown> | undefined = copy
    for (const part of parts.slice(0, -1)) obj = obj?.[part] as Record<string, unknown> | undefined
    const last = parts[parts.length - 1] as string
    if (obj && obj[last] !== undefined) obj[last] = redact(obj[last])
  }
  for (const key of SECRET_KEYS) replace(key, () => '[redacted]')
  for (const key of URL_KEYS) replace(key, (value) => redactUrl(String(value)))
  return copy
}

const CREDENTIAL_PARAM = /pass|secret|token/i

/**
 * Hides the password of a connection URL, and query parameters such as `password=`, keeping what
 * an operator needs to recognise it. It splits the URL as WHATWG `URL` does, which is how the
 * PostgreSQL and Redis drivers read it; a URL that does not parse is hidden whole after its scheme.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0]
  // Nothing to hide: returned as written, so a SQLite path is not normalised by the parser.
  if (!scheme || (!url.includes('@') && !url.includes('?'))) return url
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `${scheme}[redacted]`
  }
  const userinfo = parsed.username
    ? `${parsed.username}${parsed.password ? ':[redacted]' : ''}@`
    : parsed.password
      ? ':[redacted]@'
      : ''
  const params = [...parsed.searchParams]
    .map(([name, value]) =>
      CREDENTIAL_PARAM.test(name)
        ? `${encodeURIComponent(name)}=[redacted]`
        : new URLSearchParams([[name, value]]).toString(),
    )
    .join('&')
  const query = parsed.search ? `?${params}` : ''
  return `${scheme}${userinfo}${parsed.host}${parsed.pathname}${query}${parsed.hash}`
}
