import { canonicalIp, ipRangeMatcher } from '../lib/ip-range.js'

/** The client address of a request from its socket peer and its `X-Forwarded-For`; null when unknown. */
export type ClientAddressOf = (
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
) => string | null

/** Whether a socket peer may speak for others in `X-Forwarded-For`: never without `trust_proxy`. */
export function createTrustedProxyTest(api: {
  trust_proxy: boolean
  trusted_proxies: readonly string[]
}): (peer: string) => boolean {
  if (!api.trust_proxy) return () => false
  return ipRangeMatcher(api.trusted_proxies)
}

/**
 * The one rule for the client address. Without `trust_proxy`, or when the socket peer is not in
 * `trusted_proxies`, it is the socket's address: anyone else's `X-Forwarded-For` is whatever
 * they wrote. From a trusted proxy, the header is walked from the right past every trusted
 * proxy, and the first other hop is the client — what lies left of it was written by the client,
 * and trusting it would let anyone dodge rate limits and lockout by inventing addresses. An
 * entry that is not an address ends the walk at the last real hop.
 */
export function createClientAddress(api: {
  trust_proxy: boolean
  trusted_proxies: readonly string[]
}): ClientAddressOf {
  const isTrusted = createTrustedProxyTest(api)
  return (socketAddress, forwardedFor) => {
    const peer = socketAddress === undefined ? null : canonicalIp(socketAddress)
    if (peer === null || forwardedFor === undefined || !isTrusted(peer)) return peer
    let client = peer
    const hops = forwardedFor.split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = canonicalIp((hops[i] as string).trim())
      if (hop === null) break
      client = hop
      if (!isTrusted(hop)) break
    }
    return client
  }
}
