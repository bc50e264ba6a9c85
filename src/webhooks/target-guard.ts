import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

// SSRF guard for webhook targets. A partner chooses the URL, so without it the service could be
// made to POST to its own admin ports, the database, or the cloud metadata service. There are two
// layers: `checkWebhookUrl` judges the URL text (at registration and again before each attempt),
// and `createSafeLookup` judges every address DNS returns at the moment a connection is opened,
// so a name that resolved to a public address at registration and to 127.0.0.1 later (DNS
// rebinding) is still refused.

/** Longest URL accepted; real webhook URLs are far shorter, and this bounds what we store. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Error code carried by the error the safe lookup raises, so callers can tell "refused" apart. */
export const BLOCKED_ADDRESS_CODE = 'EWEBHOOKBLOCKED';

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export interface UrlCheckOptions {
  /** WEBHOOK_ALLOW_PRIVATE: lets loopback/private targets through (development, tests). */
  allowPrivate: boolean;
  /** In production only https is accepted. */
  requireHttps: boolean;
}

// Cloud metadata endpoints get their own reason: they also fall in link-local, unique-local or
// CGNAT, but naming them makes a refusal in the delivery log self-explanatory.
const METADATA_ADDRESSES: ReadonlyMap<string, string> = new Map([
  ['169.254.169.254', 'AWS/GCP/Azure/OpenStack'],
  ['fd00:ec2::254', 'AWS IPv6'],
  ['100.100.100.200', 'Alibaba Cloud'],
  ['192.0.0.192', 'Oracle Cloud'],
]);

// ipaddr.js range names → the reason we report. Anything not listed and not plain 'unicast' is a
// special-purpose block (documentation, benchmarking, AS112, ORCHID, …) and refused as reserved.
const RANGE_REASONS: Readonly<Record<string, string>> = {
  unspecified: 'unspecified address',
  loopback: 'loopback address',
  private: 'private address',
  uniqueLocal: 'private address (unique local)',
  linkLocal: 'link-local address',
  deprecatedSiteLocal: 'private address (site local)',
  carrierGradeNat: 'carrier-grade NAT address',
  multicast: 'multicast address',
  broadcast: 'broadcast address',
};

// IPv6 forms that carry an IPv4 address inside them: NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// can route to the embedded IPv4 address, so they are judged by it.
const NAT64_PREFIX = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR_PREFIX = ipaddr.IPv6.parseCIDR('2002::/16');
// Only 2000::/3 is allocated as global unicast; the rest of the IPv6 space is reserved.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Why a webhook must not be sent to this address, or null when it may. Allow-list in spirit:
 * an IPv4 address must be plain public unicast, an IPv6 address must be in 2000::/3 and plain
 * unicast; IPv4-mapped/translated, NAT64 and 6to4 addresses are judged as the IPv4 they embed.
 * Something that is not an IP address at all is refused too.
 */
export function isBlockedAddress(ip: string): string | null {
  const text = stripBrackets(ip.trim());
  if (!ipaddr.isValid(text)) return 'not an IP address';
  const parsed = ipaddr.parse(text);
  return parsed.kind() === 'ipv4' ? judgeIPv4(parsed as ipaddr.IPv4) : judgeIPv6(parsed as ipaddr.IPv6);
}

function judgeIPv4(address: ipaddr.IPv4): string | null {
  const metadata = METADATA_ADDRESSES.get(address.toString());
  if (metadata) return `cloud metadata address (${metadata})`;
  const range = address.range();
  if (range === 'unicast') return null;
  return RANGE_REASONS[range] ?? `reserved address (${range})`;
}

function judgeIPv6(address: ipaddr.IPv6): string | null {
  // The zone id (fe80::1%eth0) is irrelevant to the judgement and absent from the map keys.
  const plain = new ipaddr.IPv6(address.parts);
  const metadata = METADATA_ADDRESSES.get(plain.toString());
  if (metadata) return `cloud metadata address (${metadata})`;

  const embedded = embeddedIPv4(plain);
  if (embedded) return judgeIPv4(embedded);

  const range = plain.range();
  const known = RANGE_REASONS[range];
  if (known) return known;
  if (range !== 'unicast') return `reserved address (${range})`;
  if (!plain.match(GLOBAL_UNICAST_V6)) return 'reserved address (outside 2000::/3)';
  return null;
}

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  const p = address.parts;
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT translated) keep the IPv4 in the last 32 bits.
  if (range === 'ipv4Mapped' || range === 'rfc6145' || address.match(NAT64_PREFIX)) {
    return ipv4FromWords(p[6] ?? 0, p[7] ?? 0);
  }
  // 2002:AABB:CCDD::/48 is the 6to4 prefix for AA.BB.CC.DD.
  if (address.match(SIX_TO_FOUR_PREFIX)) return ipv4FromWords(p[1] ?? 0, p[2] ?? 0);
  return null;
}

function ipv4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Syntactic check of a webhook URL, used at registration and before every attempt. It cannot see
 * what a host name resolves to (that is the safe lookup's job), but refuses what is wrong on its
 * face: other schemes, credentials, overlong URLs, and literal IP hosts in blocked ranges.
 */
export function checkWebhookUrl(url: string, options: UrlCheckOptions): UrlCheck {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, reason: `URL longer than ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: 'only http and https URLs are accepted' };
  }
  if (options.requireHttps && parsed.protocol !== 'https:') return { ok: false, reason: 'only https URLs are accepted' };
  // Credentials in the URL would be stored and shown in plain text; partners should verify the
  // signature instead.
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'URL must not contain credentials' };
  if (parsed.hostname === '') return { ok: false, reason: 'URL has no host' };

  if (!options.allowPrivate) {
    const hostReason = blockedHostReason(parsed.hostname);
    if (hostReason) return { ok: false, reason: `host not allowed: ${hostReason}` };
  }
  return { ok: true, url: parsed };
}

function blockedHostReason(hostname: string): string | null {
  const host = stripBrackets(hostname);
  // Node's net.connect skips the lookup for literal IPs, so a literal is judged here or never.
  if (ipaddr.isValid(host)) return isBlockedAddress(host);
  // RFC 6761: localhost and *.localhost always mean this machine; say so at registration already.
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback host name';
  return null;
}

/** The error the safe lookup fails with when every address of a name is blocked. */
export class BlockedAddressError extends Error {
  readonly code = BLOCKED_ADDRESS_CODE;
  constructor(readonly hostname: string, readonly reasons: string[]) {
    super(`webhook target resolves only to blocked addresses (${[...new Set(reasons)].join(', ')})`);
    this.name = 'BlockedAddressError';
  }
}

type AllAddressesLookup = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface SafeLookupOptions {
  allowPrivate: boolean;
  /** Resolver to wrap; tests substitute a fake. Defaults to `dns.lookup`. */
  resolve?: AllAddressesLookup;
}

/**
 * A `lookup` for net/tls (and so undici's `connect.lookup`) that resolves the name, drops blocked
 * addresses and hands only the rest to the socket. Because the socket connects to exactly what
 * this returns, the check covers the address actually connected to, however DNS answers later.
 * Blocked addresses among allowed ones are dropped rather than failing the whole name: nothing is
 * ever sent to them, and dual-stack hosts with an internal AAAA record keep working.
 */
export function createSafeLookup(options: SafeLookupOptions): LookupFunction {
  const resolve: AllAddressesLookup = options.resolve ?? ((hostname, opts, cb) => dns.lookup(hostname, opts, cb));
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const allowed = options.allowPrivate ? addresses : addresses.filter((a) => isBlockedAddress(a.address) === null);
      if (allowed.length === 0) {
        const reasons = addresses.map((a) => isBlockedAddress(a.address) ?? 'no address');
        callback(new BlockedAddressError(hostname, reasons.length > 0 ? reasons : ['no address']), '', 0);
        return;
      }
      if (lookupOptions.all) {
        callback(null, allowed);
        return;
      }
      const first = allowed[0]!;
      callback(null, first.address, first.family);
    });
  };
}
