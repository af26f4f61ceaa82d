import { describe, expect, it } from 'vitest'
import { addressBlock } from './ip-range.js'

describe('addressBlock', () => {
  it('keeps an IPv4 address and anything that is not an address', () => {
    expect(addressBlock('203.0.113.7')).toBe('203.0.113.7')
    expect(addressBlock('local')).toBe('local')
  })

  it('budgets IPv6 by its /64, however the address is written', () => {
    const block = '2001:db8:1:2::/64'
    for (const ip of [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0db8:0001:0002:0000:0000:0000:0009',
      '2001:db8:1:2:0:0:1.2.3.4',
    ]) {
      expect(addressBlock(ip), ip).toBe(block)
    }
    expect(addressBlock('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64')
    expect(addressBlock('::1')).toBe('0:0:0:0::/64')
    expect(addressBlock('fe80::')).toBe('fe80:0:0:0::/64')
  })
})
