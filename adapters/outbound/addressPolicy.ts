import { BlockList, isIP } from 'node:net';

/**
 * Why an address may not be reached from the server. Stable: callers and logs match on these.
 *
 * - `loopback`: 127/8, ::1 — the server itself.
 * - `private`: 10/8, 172.16/12, 192.168/16, fc00::/7 (unique local), fec0::/10 (old site-local).
 * - `link_local`: 169.254/16, fe80::/10.
 * - `unspecified`: 0/8 ("this network"; Linux connects 0.0.0.0 to the local host), ::.
 * - `metadata`: cloud instance-metadata endpoints, named apart because they hand out credentials.
 * - `multicast`: 224/4, ff00::/8.
 * - `broadcast`: 255.255.255.255.
 * - `shared`: 100.64/10, carrier-grade NAT space, often a provider's internal network.
 * - `benchmarking`: 198.18/15.
 * - `reserved`: 192.0.0/24, 240/4, 100::/64 and every IPv6 address outside global unicast 2000::/3.
 * - `invalid`: not an IP address at all (fails closed).
 */
export type AddressReason =
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unspecified'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'shared'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

/** Every {@link AddressReason}, for exhaustive tests and documentation. */
export const addressReasons: readonly AddressReason[] = [
  'loopback',
  'private',
  'link_local',
  'unspecified',
  'metadata',
  'multicast',
  'broadcast',
  'shared',
  'benchmarking',
  'reserved',
  'invalid',
];

/** The verdict on one address. */
export type AddressVerdict =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: AddressReason };

const allowed: AddressVerdict = { allowed: true };
const refused = (reason: AddressReason): AddressVerdict => ({ allowed: false, reason });

/** Drops an IPv6 zone (`fe80::1%eth0`): the zone picks an interface, not a different address. */
const withoutZone = (ip: string): string => {
  const percent = ip.indexOf('%');
  return percent === -1 ? ip : ip.slice(0, percent);
};

/** A dotted-quad IPv4 address (already checked by `isIP`) as an unsigned 32-bit number. */
const ipv4ToNumber = (ip: string): number =>
  ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);

/** An IPv6 address (already checked by `isIP`) as its eight 16-bit groups. */
const ipv6ToGroups = (ip: string): number[] => {
  let text = ip.toLowerCase();
  // A trailing dotted quad (`::ffff:127.0.0.1`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const value = ipv4ToNumber(tail);
    text = `${text.slice(0, lastColon + 1)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
};

/** True when `value` lies in `base/prefix` (IPv4, both as unsigned 32-bit numbers). */
const inV4 = (value: number, base: string, prefix: number): boolean => {
  const size = 2 ** (32 - prefix);
  return Math.floor(value / size) === Math.floor(ipv4ToNumber(base) / size);
};

/** Instance-metadata endpoints: AWS/GCP/Azure, AWS ECS tasks, Alibaba Cloud, Oracle Cloud. */
const metadataV4 = new Set(
  ['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192'].map(ipv4ToNumber),
);

/** IPv4 ranges in the order they are tried; the first match decides. */
const v4Ranges: readonly (readonly [base: string, prefix: number, reason: AddressReason])[] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['169.254.0.0', 16, 'link_local'],
  ['100.64.0.0', 10, 'shared'],
  ['192.0.0.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['255.255.255.255', 32, 'broadcast'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const classifyV4 = (value: number): AddressVerdict => {
  if (metadataV4.has(value)) return refused('metadata');
  const range = v4Ranges.find(([base, prefix]) => inV4(value, base, prefix));
  return range === undefined ? allowed : refused(range[2]);
};

/** The IPv4 address held in two 16-bit groups. */
const embedded = (high: number, low: number): number => high * 0x10000 + low;

/** AWS's IPv6 instance-metadata endpoint, fd00:ec2::254. */
const isMetadataV6 = (g: readonly number[]): boolean =>
  g[0] === 0xfd00 && g[1] === 0xec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254;

const classifyV6 = (g: readonly number[]): AddressVerdict => {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroUpTo = (end: number): boolean => g.slice(0, end).every((x) => x === 0);
  if (isMetadataV6(g)) return refused('metadata');
  if (zeroUpTo(8)) return refused('unspecified');
  if (zeroUpTo(7) && g7 === 1) return refused('loopback');
  // Forms that carry an IPv4 address are judged by that address: the packet ends up there.
  // IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96.
  if (zeroUpTo(5) && g5 === 0xffff) return classifyV4(embedded(g6, g7));
  if (zeroUpTo(4) && g4 === 0xffff && g5 === 0) return classifyV4(embedded(g6, g7));
  if (zeroUpTo(6)) return classifyV4(embedded(g6, g7));
  // NAT64, well-known 64:ff9b::/96 and local-use 64:ff9b:1::/48 (judged in its /96 layout).
  if (g0 === 0x64 && g1 === 0xff9b && (g2 === 0 || g2 === 1)) {
    return classifyV4(embedded(g6, g7));
  }
  // 6to4: 2002:AABB:CCDD::/48 routes to the IPv4 address AA.BB.CC.DD.
  if (g0 === 0x2002) return classifyV4(embedded(g1, g2));
  if ((g0 & 0xfe00) === 0xfc00) return refused('private');
  if ((g0 & 0xffc0) === 0xfe80) return refused('link_local');
  if ((g0 & 0xffc0) === 0xfec0) return refused('private');
  if ((g0 & 0xff00) === 0xff00) return refused('multicast');
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return refused('reserved');
  // Only 2000::/3 is global unicast; the rest is reserved or unassigned.
  if ((g0 & 0xe000) !== 0x2000) return refused('reserved');
  return allowed;
};

/**
 * Says whether the server may open a connection to `ip`, a textual IPv4 or IPv6 address (an IPv6
 * zone suffix is ignored). Pure: no DNS, no I/O. Anything that is not an IP address is refused
 * as `invalid`, so a caller that forgot to resolve a host name fails closed.
 *
 * Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are not refused:
 * they are not routed anywhere, so they reach nothing internal.
 */
export const classifyAddress = (ip: string): AddressVerdict => {
  const address = withoutZone(ip);
  switch (isIP(address)) {
    case 4:
      return classifyV4(ipv4ToNumber(address));
    case 6:
      return classifyV6(ipv6ToGroups(address));
    default:
      return refused('invalid');
  }
};

/**
 * The operator's exceptions (`TIDINGS_OUTBOUND_ALLOWLIST`): destinations reachable even though
 * their addresses would be refused.
 */
export interface Allowlist {
  /**
   * True when `host` (a URL host name, an IP literal, or a bracketed IPv6 literal) is listed:
   * names match case-insensitively and exactly (no subdomains, one trailing dot ignored); IP
   * literals match IP and CIDR entries.
   */
  allowsHost(host: string): boolean;
  /**
   * True when `ip` matches an IP or CIDR entry. An IPv4-mapped IPv6 address matches its IPv4
   * entry and the other way round (they are the same destination).
   */
  allowsAddress(ip: string): boolean;
  /** The entries as given, for logs. */
  readonly entries: readonly string[];
}

const normaliseName = (host: string): string => host.toLowerCase().replace(/\.$/, '');

const unbracket = (host: string): string =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

const familyName = (family: number): 'ipv4' | 'ipv6' => (family === 6 ? 'ipv6' : 'ipv4');

/**
 * Builds an {@link Allowlist} from host names, IP addresses and CIDR blocks (`10.0.0.0/8`,
 * `fd00::/8`). Throws a `TypeError` on an entry that is none of these: the settings decoder
 * checks the same grammar at start, so a bad entry here is a bug.
 */
export const parseAllowlist = (entries: readonly string[]): Allowlist => {
  const names = new Set<string>();
  const addresses = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    if (bits !== undefined) {
      const prefix = Number(bits);
      if (
        extra !== undefined ||
        family === 0 ||
        !/^\d+$/.test(bits) ||
        prefix > (family === 4 ? 32 : 128)
      ) {
        throw new TypeError(`allowlist entry "${entry}" is not a valid CIDR block`);
      }
      addresses.addSubnet(address, prefix, familyName(family));
    } else if (family !== 0) {
      addresses.addAddress(address, familyName(family));
    } else if (
      /^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(
        entry,
      )
    ) {
      names.add(normaliseName(entry));
    } else {
      throw new TypeError(`allowlist entry "${entry}" is not a host name, IP address or CIDR`);
    }
  }

  const allowsAddress = (ip: string): boolean => {
    const address = withoutZone(unbracket(ip));
    const family = isIP(address);
    return family !== 0 && addresses.check(address, familyName(family));
  };

  return {
    entries: [...entries],
    allowsAddress,
    allowsHost: (host) => {
      const bare = unbracket(host);
      return isIP(withoutZone(bare)) !== 0 ? allowsAddress(bare) : names.has(normaliseName(bare));
    },
  };
};

/** An allowlist with no entries: every refused address stays refused. */
export const emptyAllowlist: Allowlist = parseAllowlist([]);
