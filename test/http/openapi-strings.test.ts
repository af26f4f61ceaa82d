import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  openApiDocument,
  openApiFilePath,
  parseKeepingAsciiOneByte,
} from '../../src/http/openapi.js'

const OPENAPI_MODULE = fileURLToPath(new URL('../../src/http/openapi.ts', import.meta.url))

/**
 * Runs in a fresh process: loads the document, then compiles the literals (so they are interned
 * after the document's keys, as the server's lazily compiled handlers are) and tells, per
 * literal, whether V8 holds it one byte per character (`v8.serialize` tags one-byte strings `"`
 * and two-byte ones `c`).
 */
function literalsAfterLoading(parser: 'product' | 'plain yaml'): Record<string, boolean> {
  const load =
    parser === 'product'
      ? `(await import(${JSON.stringify(OPENAPI_MODULE)})).openApiDocument()`
      : `(await import('yaml')).parse((await import('node:fs')).readFileSync(${JSON.stringify(openApiFilePath())}, 'utf8'))`
  const script = `
    import v8 from 'node:v8'
    globalThis.document = ${load} // kept alive while the literals are interned
    const literals = new Function("return ['X-Request-Id', 'ETag', 'access_token', 'token_type', 'refresh_token']")()
    const oneByte = Object.fromEntries(literals.map((s) => [s, v8.serialize(s)[2] === 0x22]))
    process.stdout.write(JSON.stringify(oneByte))
  `
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  )
  return JSON.parse(out) as Record<string, boolean>
}

describe('openapi.yaml parsing', () => {
  it('gives the same document as parsing the UTF-8 text, non-ASCII text included', () => {
    const plain = parse(readFileSync(openApiFilePath(), 'utf8')) as unknown
    expect(openApiDocument()).toStrictEqual(plain)
    expect(JSON.stringify(openApiDocument())).toMatch(/\P{ASCII}/u) // the file does have some
  })

  it('decodes non-ASCII keys and values, nested in maps and lists', () => {
    const yaml = 'réponse:\n  - "§ 3 — ok"\n  - plain ✓\nascii: [1, true, null]\n'
    expect(parseKeepingAsciiOneByte(Buffer.from(yaml, 'utf8'))).toStrictEqual({
      réponse: ['§ 3 — ok', 'plain ✓'],
      ascii: [1, true, null],
    })
  })

  it('leaves the header names and token fields the server writes one byte per character', () => {
    // Plain parsing is what made them two-byte (the check would pass vacuously otherwise).
    expect(Object.values(literalsAfterLoading('plain yaml'))).toContain(false)
    expect(literalsAfterLoading('product')).toStrictEqual({
      'X-Request-Id': true,
      ETag: true,
      access_token: true,
      token_type: true,
      refresh_token: true,
    })
  })
})
