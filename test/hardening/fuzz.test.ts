// The in-suite slice of the HTTP fuzz (the full ≥10,000-request run is `npm run fuzz`):
// requests derived from openapi.yaml plus hostile values, against a real core on a SQLite file
// and on a throwaway PostgreSQL database.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { postgresUnavailableReason } from '../helpers/databases.js'
import { createFuzzWorld, type FuzzWorld } from '../helpers/fuzz/fuzz-world.js'
import { CONTROL_CHARACTERS } from '../helpers/fuzz/hostile.js'
import { anyRequest, type FuzzRequest } from '../helpers/fuzz/requests.js'
import {
  assertEveryRouteCovered,
  assertWorldHealthy,
  formatStats,
  runFuzz,
} from '../helpers/fuzz/run-fuzz.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_301)
const pgUnavailable = await postgresUnavailableReason()

/** Every string a request carries to the server: path, query, header values and body. */
function textOf(request: FuzzRequest): { where: string; text: string }[] {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      return s
    }
  }
  const body =
    typeof request.body === 'string'
      ? request.body
      : request.body === undefined
        ? ''
        : Buffer.from(request.body).toString('utf8')
  return [
    { where: 'path', text: decode(request.path) },
    { where: 'query', text: decode(request.query) },
    { where: 'header', text: Object.values(request.headers).join('\n') },
    // JSON escapes a control character as \uXXXX (or \n, \t...): parse to see it.
    { where: 'body', text: jsonText(body) },
  ]
}

function jsonText(body: string): string {
  try {
    return deepStrings(JSON.parse(body))
  } catch {
    return body
  }
}

function deepStrings(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(deepStrings).join(' ')
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([k, v]) => `${k} ${deepStrings(v)}`)
      .join(' ')
  }
  return ''
}

async function fuzzSlice(world: FuzzWorld, numRuns: number, seed: number) {
  const stats = await runFuzz(world, { numRuns, seed })
  expect(stats.requests, formatStats(stats)).toBe(numRuns)
  expect(stats.fiveXx).toBe(0)
  assertEveryRouteCovered(stats)
  return stats
}

describe('the generator sends control characters and prototype keys everywhere', () => {
  test('NUL, other C0, DEL and C1 in paths, queries, header values and bodies; prototype keys as paths, ids and field names', async () => {
    const world = await createFuzzWorld()
    try {
      const requests = fc.sample(anyRequest(world), { numRuns: 3000, seed: SEED })
      const seen = new Set<string>()
      for (const request of requests) {
        for (const { where, text } of textOf(request)) {
          if (text.includes('\u0000')) seen.add(`NUL in ${where}`)
          for (const c of CONTROL_CHARACTERS) {
            if (c !== '\u0000' && text.includes(c)) seen.add(`control in ${where}`)
          }
        }
        const body = typeof request.body === 'string' ? request.body : ''
        if (/^\/docs\/assets\/(__proto__|constructor|toString)$/.test(request.path))
          seen.add('prototype key as an asset')
        if (/^\/users\/(__proto__|constructor)(\/|$)/.test(request.path))
          seen.add('prototype key as an id')
        if (/"(__proto__|constructor)":/.test(body)) seen.add('prototype key as a field')
        if (/[?&](__proto__|constructor|toString)=/.test(request.query))
          seen.add('prototype key as a query name')
        if (/[?&](search|role|type)=[^&]*%00/.test(request.query))
          seen.add('NUL in search, role or type')
        if (request.op.path === '/auth/login' && /"username":"[^"]*\\u0000/.test(body))
          seen.add('NUL in a login username')
      }
      const expected = [
        'NUL in path',
        'NUL in query',
        'NUL in body',
        'control in path',
        'control in query',
        'control in header',
        'control in body',
        'prototype key as an asset',
        'prototype key as an id',
        'prototype key as a field',
        'prototype key as a query name',
        'NUL in search, role or type',
        'NUL in a login username',
      ]
      expect([...seen].sort()).toEqual(expect.arrayContaining(expected))
    } finally {
      await world.close()
    }
  })
})

describe('hostile-input fuzz over every route of openapi.yaml', () => {
  test('1000 requests: no 5xx, every error in the envelope, documented answers match the document; healthy after', async () => {
    const world = await createFuzzWorld()
    try {
      const stats = await fuzzSlice(world, 1000, SEED)
      // The generator reaches past the front door: admin successes and client errors both occur.
      const statuses = [...stats.statuses.values()].flatMap((m) => [...m.keys()])
      for (const status of [200, 201, 204, 400, 401, 403, 404, 413, 415]) {
        expect(statuses, `no ${status} in\n${formatStats(stats)}`).toContain(status)
      }
      await assertWorldHealthy(world)
    } finally {
      await world.close()
    }
  }, 60_000)

  test.skipIf(pgUnavailable !== undefined)(
    `on PostgreSQL, 1000 requests: no 5xx; healthy after${pgUnavailable ? ` (skipped: ${pgUnavailable})` : ''}`,
    async () => {
      const world = await createFuzzWorld({}, 'postgres')
      try {
        await fuzzSlice(world, 1000, SEED + 2)
        await assertWorldHealthy(world)
      } finally {
        await world.close()
      }
    },
    120_000,
  )

  test('with low rate limits and lockout on: 429s are clean envelopes with Retry-After too', async () => {
    const world = await createFuzzWorld({
      rate_limit: {
        requests_per_minute: 60,
        login_requests_per_minute: 10,
        max_failed_logins: 3,
        lockout_seconds: 60,
      },
    })
    try {
      const stats = await runFuzz(world, { numRuns: 250, seed: SEED + 1 })
      expect(stats.fiveXx).toBe(0)
      const limited = [...stats.statuses.values()].reduce((n, m) => n + (m.get(429) ?? 0), 0)
      expect(limited, formatStats(stats)).toBeGreaterThan(0)
      await assertWorldHealthy(world)
    } finally {
      await world.close()
    }
  }, 60_000)
})
