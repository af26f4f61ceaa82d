// Hostile values for the HTTP fuzz suite: what an attacker types into any field, header or path.
import fc from 'fast-check'

/** SQL injection classics (SQLite and PostgreSQL dialects). */
export const SQL_INJECTION: readonly string[] = [
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  "admin'--",
  "' UNION SELECT password_hash FROM users --",
  "%' OR '1'='1",
  '1; DELETE FROM audit_events',
  "'); PRAGMA writable_schema=1; --",
  '\\x27 OR 1=1',
]

/** Script and template injection. */
export const SCRIPT_INJECTION: readonly string[] = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '<svg/onload=alert(1)>',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: template injection is the point
  '${7*7}',
  '#{7*7}',
  '__proto__',
  'constructor',
]

/** Path traversal, raw and encoded. */
export const PATH_TRAVERSAL: readonly string[] = [
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '....//....//etc/passwd',
  '/etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f',
  '.',
  '..',
]

/** Unicode that breaks naive code: RTL overrides, zero-width, emoji, lone surrogates, controls. */
export const NASTY_UNICODE: readonly string[] = [
  '\u202Eevil\u202C',
  'a\u200Bb\u200Cc\u200Dd\uFEFF',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  '\uD800',
  '\uDC00x\uD800',
  'A\u0000B',
  '\u0000',
  '\u0001\u0002\u001B[31m\u007F',
  'ＡＤＭＩＮ',
  'ﬀ\u0130ß',
  'e\u0301\u0301\u0301\u0301',
  '\r\n\t\v\f',
  '\u2028\u2029',
  '\uFFFE\uFFFF',
  'admin\u0000',
]

/** Every control character (Unicode Cc): the C0 range with NUL, DEL, and the C1 range. */
export const CONTROL_CHARACTERS: readonly string[] = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
  '\u007f',
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)),
]

/** Names a plain-object lookup finds on `Object.prototype` (or that set the prototype). */
export const PROTOTYPE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
]

/**
 * A control character inside a plausible value (`al\0ice`), at either end, or alone: what
 * reaches a database or an FTS query when a validator only checks the type. NUL most often.
 */
export function controlString(): fc.Arbitrary<string> {
  const control = fc.oneof(
    { weight: 3, arbitrary: fc.constant('\u0000') },
    { weight: 2, arbitrary: fc.constantFrom(...CONTROL_CHARACTERS) },
  )
  const base = fc.constantFrom('alice', 'fuzz-admin', 'admin', 'user', 'a@example.com', 'login')
  return fc
    .tuple(
      base,
      control,
      fc.constantFrom<'inside' | 'start' | 'end' | 'alone'>('inside', 'start', 'end', 'alone'),
    )
    .map(([text, c, where]) => {
      if (where === 'alone') return c
      if (where === 'start') return `${c}${text}`
      if (where === 'end') return `${text}${c}`
      return `${text.slice(0, 2)}${c}${text.slice(2)}`
    })
}

/** Strings the validators meet at their edges. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e999',
  'NaN',
  '[]',
  '{}',
  'admin',
  'ADMIN',
  '*',
  'rvoip_ak_live_',
  'rvoip_ak_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'Bearer',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'a.b.c',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
]

/** Every fixed hostile string. */
export const HOSTILE_STRINGS: readonly string[] = [
  ...SQL_INJECTION,
  ...SCRIPT_INJECTION,
  ...PATH_TRAVERSAL,
  ...NASTY_UNICODE,
  ...ODD_STRINGS,
]

/** Large strings, up to ~100 KB: one repeated character, or a hostile string repeated. */
export function hugeString(maxLength = 100_000): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(1_000, 10_000, 65_536, maxLength),
      fc.constantFrom('A', '😀', '\u0000', "' OR 1=1 --", '<', 'é'),
    )
    .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length))
}

/** A hostile string: fixed attack strings, random full-unicode strings, or huge ones. */
export function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: controlString() },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
    // 'binary' reaches every code point including lone surrogate halves.
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: hugeString() },
  )
}

/** A JSON value of the wrong type for any field. */
export function wrongTypeValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      [],
      {},
      [null],
      ['admin'],
      { $ne: null },
      { __proto__: { admin: true } },
      [[[[[[[[[[]]]]]]]]]],
    ),
    hostileString(),
    fc.array(hostileString(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), hostileString(), { maxKeys: 3 }),
    fc.integer(),
    fc.double(),
  )
}

/** `depth` levels of `[[[...]]]` or `{"a":{"a":...}}`, as raw JSON text (never built in memory). */
export function deepNesting(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
}

/** Raw bodies that are not what any route expects; `FIELD` is replaced by a real field name. */
export function hostileRawBody(fields: readonly string[]): fc.Arbitrary<string | Uint8Array> {
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('a')
  const encoder = new TextEncoder()
  return fc.oneof(
    fc
      .tuple(
        fc.constantFrom(10, 1_000, 10_000),
        fc.constantFrom<'array' | 'object'>('array', 'object'),
      )
      .map(([depth, kind]) => deepNesting(depth, kind)),
    fc
      .tuple(
        field,
        fc.constantFrom(1_000, 10_000),
        fc.constantFrom<'array' | 'object'>('array', 'object'),
      )
      .map(([f, depth, kind]) => `{${JSON.stringify(f)}:${deepNesting(depth, kind)}}`),
    // Duplicate keys: JSON.parse keeps the last, a naive validator might check the first.
    fc
      .tuple(field, hostileString(), fc.string({ maxLength: 10 }))
      .map(
        ([f, a, b]) =>
          `{${JSON.stringify(f)}:${JSON.stringify(b)},${JSON.stringify(f)}:${JSON.stringify(a)}}`,
      ),
    // Invalid UTF-8 inside a JSON string.
    fc
      .tuple(
        field,
        fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80], [0x80]),
      )
      .map(([f, bytes]) => {
        const head = encoder.encode(`{${JSON.stringify(f)}:"x`)
        const tail = encoder.encode('"}')
        return Uint8Array.from([...head, ...bytes, ...tail])
      }),
    // A real field holding a control character, as JSON escapes or raw in the string.
    fc.tuple(field, controlString()).map(([f, value]) => JSON.stringify({ [f]: value })),
    fc
      .tuple(fc.constantFrom(...PROTOTYPE_KEYS), field, hostileString())
      .map(
        ([key, f, value]) =>
          `{${JSON.stringify(key)}:{"admin":true},${JSON.stringify(f)}:${JSON.stringify(value)}}`,
      ),
    fc.constantFrom(
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"polluted":1}}}',
      '{"constructor":"x","toString":"y","hasOwnProperty":1}',
      '{"username":"al\\u0000ice","password":"x"}',
      '{"username":',
      '{',
      '}',
      '[',
      'null',
      'true',
      '"string"',
      '123',
      '[]',
      '{}',
      '1e99999',
      '{"a":1}garbage',
      '\uFEFF{}',
      ' \t\r\n ',
      '{"a":"\\ud800"}',
      '{"a":"\\u0000"}',
      'username=admin&password=x',
      '<?xml version="1.0"?><a/>',
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
    ),
    hugeString(200_000),
  )
}

/** Content types a client might send with a body, right and wrong. */
export function contentType(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    {
      weight: 4,
      arbitrary: fc.constantFrom<string | undefined>(
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/vnd.api+json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'text/html',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/octet-stream',
        '*/*',
        '',
        'application/json\u00ff',
        'application/json; charset=ebcdic',
        ';;;',
        undefined,
      ),
    },
  )
}

/**
 * Header values as bytes on the wire would arrive: UTF-8 bytes read as Latin-1 (what an HTTP
 * parser hands over), minus the NUL, CR and LF that no HTTP parser lets through.
 */
export function toHeaderValue(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/[\0\r\n]/g, '?')
}

/**
 * A percent-encoded path segment for any string (lone surrogates become U+FFFD, as in UTF-8);
 * `raw` keeps some characters unencoded to try the router's own decoding.
 */
export function encodePathSegment(value: string): string {
  let out = ''
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Path segments that are themselves malformed: bad percent-encoding, overlong UTF-8. */
export const MALFORMED_SEGMENTS: readonly string[] = [
  '%',
  '%zz',
  '%E0%A4%A',
  '%FF%FE',
  '%C0%AE%C0%AE',
  '%00',
  '%2F',
  '%252F',
  ';jsessionid=1',
  'me',
  'ME',
  '%7F',
  '%C2%85',
  'al%00ice',
  ...PROTOTYPE_KEYS,
]
