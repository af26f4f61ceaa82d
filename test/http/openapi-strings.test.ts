import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { openApiDocument, openApiFilePath } from '../../src/http/openapi.js'

const OPENAPI_MODULE = fileURLToPath(new URL('../../src/http/openapi.ts', import.meta.url))

/**
 * Runs in a fresh process: loads the document, then compiles the literals (so they are interned
 * after the document's keys, as the server's lazily compiled handlers are) and tells, per
 * literal, whether V8 holds it one byte per character (`v8.serialize` tags one-byte strings `"`
 * and two-byte ones `c`).
 */
function literalsAfterLoading(): Record<string, boolean> {
  const script = `
    import v8 from 'node:v8'
    globalThis.document = (await import(${JSON.stringify(OPENAPI_MODULE)})).openApiDocument()
    const literals = new Function("return ['X-Request-Id', 'ETag', 'access_token', 'token_type', 'refresh_token']")()
    const oneByte = Object.fromEntries(literals.map((s) => [s, v8.serialize(s)[2] === 0x22]))
    process.stdout.write(JSON.stringify(oneByte))
  `
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  )
  return JSON.parse(out) as Record<string, boolean>
}

describe('openapi.yaml', () => {
  it('is pure ASCII (a non-ASCII character would make every string cut from it two-byte)', () => {
    const bytes = readFileSync(openApiFilePath())
    const offending = [...bytes.entries()].filter(([, byte]) => byte > 0x7f)
    const line = (at: number) => bytes.subarray(0, at).toString('latin1').split('\n').length
    expect(offending.map(([at]) => `line ${line(at)}`)).toEqual([])
  })

  it('is served as plain parsing of its text gives it', () => {
    expect(openApiDocument()).toStrictEqual(parse(readFileSync(openApiFilePath(), 'utf8')))
  })

  it('leaves the header names and token fields the server writes one byte per character', () => {
    expect(literalsAfterLoading()).toStrictEqual({
      'X-Request-Id': true,
      ETag: true,
      access_token: true,
      token_type: true,
      refresh_token: true,
    })
  })
})
