import { BlockList, isIP } from "node:net";

/**
 * Who the client is, given the peer address and `x-forwarded-for`.
 *
 * `x-forwarded-for` is only believed when the peer is a trusted proxy: the
 * client is then the rightmost address that is not itself trusted (so a
 * client cannot prepend a fake address). An untrusted peer is the client.
 */
export interface ClientIpResolver {
  /** The address `per: ip` limits key on. */
  clientIp(peer: string, forwardedFor: string | string[] | undefined): string;
  /** The `x-forwarded-for` value to send upstream: the trusted chain plus the peer. */
  forwardedFor(peer: string, forwardedFor: string | string[] | undefined): string;
  isTrusted(address: string): boolean;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so IPv4 CIDRs match dual-stack sockets. */
export function normalizeIp(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function createClientIpResolver(cidrs: readonly string[]): ClientIpResolver {
  const trusted = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split("/") as [string, string | undefined];
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, Number(prefix), family);
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && trusted.check(address, family === 6 ? "ipv6" : "ipv4");
  };
  const chain = (forwardedFor: string | string[]): string[] =>
    (typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(","))
      .split(",")
      .map((part) => normalizeIp(part.trim()))
      .filter((part) => isIP(part) !== 0);

  return {
    isTrusted,
    clientIp(rawPeer, forwardedFor) {
      const peer = normalizeIp(rawPeer);
      if (forwardedFor === undefined || cidrs.length === 0 || !isTrusted(peer)) return peer;
      const hops = chain(forwardedFor);
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i] as string;
        if (!isTrusted(hop)) return hop;
      }
      return hops[0] ?? peer;
    },
    forwardedFor(rawPeer, forwardedFor) {
      const peer = normalizeIp(rawPeer);
      if (forwardedFor === undefined || !isTrusted(peer)) return peer;
      const hops = chain(forwardedFor);
      hops.push(peer);
      return hops.join(", ");
    },
  };
}
