// The client address behind proxies: X-Forwarded-For is read only when the socket peer is a
// trusted proxy, from the right, and the first hop that is not a trusted proxy is the client.
import { describe, expect, test } from 'vitest'
import { configFromEnv } from '../../src/config/load.js'
import { parseConfig } from '../../src/config/schema.js'
import { UsersError } from '../../src/errors.js'
import { createClientAddress } from '../../src/http/client-address.js'

const LOOPBACK = ['127.0.0.0/8', '::1/128']

function configError(input: unknown): UsersError {
  try {
    parseConfig(input)
  } catch (error) {
    if (error instanceof UsersError) return error
    throw error
  }
  throw new Error('expected a configuration error')
}

describe('createClientAddress', () => {
  test('without trust_proxy the socket address is the client, whatever the header says', () => {
    const of = createClientAddress({ trust_proxy: false, trusted_proxies: LOOPBACK })
    expect(of('127.0.0.1', '203.0.113.7')).toBe('127.0.0.1')
    expect(of('198.51.100.1', '203.0.113.7')).toBe('198.51.100.1')
    expect(of(undefined, '203.0.113.7')).toBe(null)
  })

  test('an untrusted peer is the client: its X-Forwarded-For is ignored', () => {
    const of = createClientAddress({ trust_proxy: true, trusted_proxies: LOOPBACK })
    expect(of('198.51.100.1', '203.0.113.7')).toBe('198.51.100.1')
    expect(of('198.51.100.1', '127.0.0.1')).toBe('198.51.100.1')
    // No socket address (an in-process request) is no trusted proxy either.
    expect(of(undefined, '203.0.113.7')).toBe(null)
  })

  test('a trusted peer: the right-most hop that is not a trusted proxy is the client', () => {
    const of = createClientAddress({
      trust_proxy: true,
      trusted_proxies: [...LOOPBACK, '10.0.0.0/8'],
    })
    expect(of('127.0.0.1', '203.0.113.7')).toBe('203.0.113.7')
    // A chain of trusted proxies in front of the one that connected.
    expect(of('127.0.0.1', '203.0.113.7, 10.1.2.3, 10.4.5.6')).toBe('203.0.113.7')
    // Entries left of the first untrusted hop were written by the client: spoofed, never used.
    expect(of('127.0.0.1', '1.2.3.4, 10.9.9.9, 203.0.113.7')).toBe('203.0.113.7')
    expect(of('127.0.0.1', '127.0.0.1, 203.0.113.7')).toBe('203.0.113.7')
    expect(of('127.0.0.1', '1.1.1.1,2.2.2.2 ,  203.0.113.8')).toBe('203.0.113.8')
    // Every hop is a trusted proxy: the furthest one is the best we know.
    expect(of('127.0.0.1', '10.0.0.1, 10.0.0.2')).toBe('10.0.0.1')
    // No header, or an empty one: the peer itself.
    expect(of('127.0.0.1', undefined)).toBe('127.0.0.1')
    expect(of('127.0.0.1', '')).toBe('127.0.0.1')
  })

  test('IPv6 peers, hops and ranges', () => {
    const of = createClientAddress({
      trust_proxy: true,
      trusted_proxies: [...LOOPBACK, '2001:db8:aa::/48'],
    })
    expect(of('::1', '2001:db8:1::5')).toBe('2001:db8:1::5')
    expect(of('::1', '2001:db8:1::5, 2001:db8:aa::1')).toBe('2001:db8:1::5')
    expect(of('2001:db8:aa::9', '203.0.113.7')).toBe('203.0.113.7')
    expect(of('2001:db8:bb::9', '203.0.113.7')).toBe('2001:db8:bb::9')
  })

  test('IPv4-mapped IPv6 addresses match IPv4 ranges and are reported as IPv4', () => {
    const of = createClientAddress({ trust_proxy: true, trusted_proxies: LOOPBACK })
    expect(of('::ffff:127.0.0.1', '203.0.113.7')).toBe('203.0.113.7')
    expect(of('::ffff:198.51.100.1', '203.0.113.7')).toBe('198.51.100.1')
    expect(of('::1', '::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(of('::1', '203.0.113.7, ::ffff:127.0.0.2')).toBe('203.0.113.7')
    expect(of('::1', '::ffff:cb00:7107')).toBe('203.0.113.7')
    const plain = createClientAddress({ trust_proxy: false, trusted_proxies: LOOPBACK })
    expect(plain('::ffff:10.0.0.5', undefined)).toBe('10.0.0.5')
  })

  test('garbage is never taken as an address and never throws: the walk stops at the last real hop', () => {
    const of = createClientAddress({
      trust_proxy: true,
      trusted_proxies: [...LOOPBACK, '10.0.0.0/8'],
    })
    for (const xff of [
      '<script>',
      'unknown',
      ' , ',
      ',,,',
      '1.2.3.4:80',
      '[2001:db8::1]',
      '999.1.1.1',
      '1.2.3',
      '01.2.3.4',
      'a'.repeat(10_000),
      '\u0000',
      '1.2.3.4\u0000',
      '::ffff:999.0.0.1',
    ]) {
      expect(of('127.0.0.1', xff), JSON.stringify(xff.slice(0, 20))).toBe('127.0.0.1')
    }
    // Left of garbage is left of a hop nobody trusted wrote: not used.
    expect(of('127.0.0.1', '203.0.113.7, garbage')).toBe('127.0.0.1')
    expect(of('127.0.0.1', '203.0.113.7, garbage, 10.0.0.3')).toBe('10.0.0.3')
    expect(of('127.0.0.1', 'garbage, 203.0.113.7')).toBe('203.0.113.7')
  })
})

describe('api.trusted_proxies', () => {
  test('defaults to loopback', () => {
    expect(parseConfig({}).api.trusted_proxies).toEqual(LOOPBACK)
  })

  test('takes addresses and CIDRs of both families, and a comma-separated environment list', () => {
    const { values } = configFromEnv({
      USERS_CORE_API_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,::1',
    })
    expect(parseConfig(values).api.trusted_proxies).toEqual([
      '10.0.0.0/8',
      '192.0.2.1',
      '2001:db8::/32',
      '::1',
    ])
    expect(parseConfig({ api: { trusted_proxies: [] } }).api.trusted_proxies).toEqual([])
  })

  test('an invalid entry is a configuration error naming the key', () => {
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '10.0.0.0/-1',
      '10.0.0.0/08x',
      'localhost',
      '1.2.3.4:80',
      'fe80::1%eth0',
      '',
    ]) {
      const error = configError({ api: { trusted_proxies: ['127.0.0.1', bad] } })
      expect(error.code, bad).toBe('VALIDATION_ERROR')
      const keys = (error.details as { key: string }[]).map((d) => d.key)
      expect(keys, bad).toEqual(['api.trusted_proxies.1'])
    }
  })
})
