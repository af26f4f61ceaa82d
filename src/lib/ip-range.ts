import { BlockList, isIPv4, isIPv6 } from 'node:net'

/** One `address` or `address/prefix` entry, IPv4 or IPv6. */
export interface IpRange {
  address: string
  prefix: number
  family: 'ipv4' | 'ipv6'
}

// A zone (`fe80::1%eth0`) names an interface of one host: meaningless as a range or a hop.
const isPlainIpv6 = (value: string) => isIPv6(value) && !value.includes('%')

/** Parses `10.0.0.0/8`, `192.0.2.1`, `2001:db8::/32` or `::1`; null when it is none of these. */
export function parseIpRange(entry: string): IpRange | null {
  const slash = entry.indexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  const family = isIPv4(address) ? 'ipv4' : isPlainIpv6(address) ? 'ipv6' : null
  if (family === null) return null
  const max = family === 'ipv4' ? 32 : 128
  if (slash === -1) return { address, prefix: max, family }
  const bits = entry.slice(slash + 1)
  if (!/^(0|[1-9]\d{0,2})$/.test(bits) || Number(bits) > max) return null
  return { address, prefix: Number(bits), family }
}

/** A membership test over entries {@link parseIpRange} accepts; IPv4-mapped IPv6 matches IPv4. */
export function ipRangeMatcher(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList()
  for (const entry of entries) {
    const range = parseIpRange(entry)
    if (range === null) throw new TypeError(`not an IP address or CIDR range: ${entry}`)
    list.addSubnet(range.address, range.prefix, range.family)
  }
  return (ip) => list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6')
}

const MAPPED_IPV4 = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i

/**
 * `value` as one address, IPv4-mapped IPv6 as plain IPv4 (so one client has one rate-limit key
 * whichever way it is written); null when it is not an address.
 */
export function canonicalIp(value: string): string | null {
  if (isIPv4(value)) return value
  if (!isPlainIpv6(value)) return null
  const mapped = MAPPED_IPV4.exec(value)
  if (mapped === null) return value
  if (mapped[1] !== undefined) return mapped[1]
  const high = Number.parseInt(mapped[2] as string, 16)
  const low = Number.parseInt(mapped[3] as string, 16)
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
}

/**
 * The block one client is budgeted by: an IPv4 address itself, an IPv6 address its /64 (one
 * subscriber's usual allocation, so rotating through it buys no fresh rate limit or lockout),
 * anything else unchanged. Takes what {@link canonicalIp} returns.
 */
export function addressBlock(ip: string): string {
  if (!isPlainIpv6(ip)) return ip
  const [head = '', tail] = ip.split('::')
  const groupsOf = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]))
  const left = groupsOf(head)
  const right = tail === undefined ? [] : groupsOf(tail)
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  const prefix = groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16))
  return `${prefix.join(':')}::/64`
}
