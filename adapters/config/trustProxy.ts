import express from 'express';
import * as E from 'fp-ts/lib/Either.js';
import { BlockList, isIP } from 'node:net';
import type { TrustProxy } from './settings.js';

/** The names express's `trust proxy` knows for address ranges. */
const RANGE_NAMES: ReadonlySet<string> = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** The widest IPv4 block taken: a /8, as wide as `loopback` (127/8) and `uniquelocal` (10/8). */
const WIDEST_IPV4 = 8;

/**
 * The widest IPv6 block taken outside the private ranges: a /16 is already 2^112 addresses; a
 * shorter prefix starts to cover the address plans of whole registries.
 */
const WIDEST_IPV6 = 16;

/** A CIDR block that can say whether an address lies in it. */
const blockOf = (
  network: string,
  bits: number,
): { readonly bits: number; readonly list: BlockList } => {
  const list = new BlockList();
  list.addSubnet(network, bits, 'ipv6');
  return { bits, list };
};

/**
 * The IPv6 ranges a block may be wider than {@link WIDEST_IPV6} inside: link-local (fe80::/10)
 * and unique-local (fc00::/7), where no address on the internet can be.
 */
const privateIpv6 = [blockOf('fe80::', 10), blockOf('fc00::', 7)];

/**
 * The IPv4-mapped addresses (::ffff:0:0/96): express matches an IPv4 client against a block in
 * them as if it were the IPv4 block it maps (and some versions match an IPv4 client against any
 * IPv6 block holding them), so a block there is an IPv4 block in disguise.
 */
const ipv4Mapped = blockOf('::ffff:0:0', 96);

const TOO_WIDE_HINT =
  'a block that wide lets clients from it choose the address the login limits count; name the proxies themselves';

/**
 * Decodes `TIDINGS_TRUST_PROXY`: `off` (also `false`, `0`), a hop count (the nearest N proxies
 * are trusted, whatever their address), or addresses, CIDR blocks and the range names, separated
 * by commas or spaces.
 *
 * Trusting every address (express's `true`) is refused: any client could then choose the address
 * the login limits count. So is anything close to it, however spelled: an IPv4 block wider than a
 * /8, an IPv6 block wider than a /16 (but within the link-local or unique-local ranges), and an
 * IPv6 block that holds every IPv4-mapped address (`::ffff:0:0/96`, `::/16`) or, inside them, an
 * IPv4 block wider than a /8 (`::ffff:0:0/97`). Each entry stands alone: a list of blocks that
 * together cover much of the internet is not looked for. What passes is then compiled by
 * express itself, exactly as the app will (`app.set('trust proxy')`), so anything express would
 * throw on at start (as it did on `0.0.0.0/0`) stops the start here, in one line, instead.
 */
export const parseTrustProxy = (raw: string): E.Either<string, TrustProxy> => {
  const value = raw.toLowerCase();
  if (['off', 'false', '0'].includes(value)) return E.right(false);
  if (/^\d+$/.test(value)) {
    return Number(value) <= 32
      ? E.right(Number(value))
      : E.left(`a hop count must be from 1 to 32, got "${raw}"`);
  }
  if (['on', 'true', 'all', '*'].includes(value)) {
    return E.left(
      `"${raw}" would trust every address, so any client could choose its own; name the proxies (addresses, CIDR blocks, loopback, linklocal, uniquelocal) or give a hop count`,
    );
  }
  const entries = value.split(/[\s,]+/).filter((entry) => entry.length > 0);
  for (const entry of entries) {
    const refusal = refusalOf(entry);
    if (refusal !== undefined) return E.left(refusal);
  }
  try {
    express().set('trust proxy', entries);
  } catch (error) {
    return E.left(
      `is not a list express can trust: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return E.right(entries);
};

/** Why one entry of a list is refused, or `undefined` when it is fine. */
const refusalOf = (entry: string): string | undefined => {
  if (RANGE_NAMES.has(entry)) return undefined;
  const [address = '', bitsText, extra] = entry.split('/');
  const family = isIP(address);
  const bits = bitsText === undefined ? (family === 4 ? 32 : 128) : Number(bitsText);
  if (
    family === 0 ||
    extra !== undefined ||
    (bitsText !== undefined && !/^\d+$/.test(bitsText)) ||
    bits > (family === 4 ? 32 : 128)
  ) {
    return notAnAddress(entry);
  }
  if (family === 4) {
    return bits < WIDEST_IPV4
      ? `"${entry}" is wider than a /${WIDEST_IPV4}: ${TOO_WIDE_HINT}`
      : undefined;
  }
  let block: BlockList;
  try {
    block = blockOf(address, bits).list;
  } catch {
    return notAnAddress(entry);
  }
  // A block is an interval of addresses: it holds all of ::ffff:0:0/96 when it holds both ends.
  if (block.check('::ffff:0.0.0.0', 'ipv6') && block.check('::ffff:255.255.255.255', 'ipv6')) {
    return `"${entry}" holds every IPv4-mapped address (::ffff:0:0/96), so it would trust every IPv4 client: ${TOO_WIDE_HINT}`;
  }
  if (within(ipv4Mapped, address, bits)) {
    return bits - ipv4Mapped.bits < WIDEST_IPV4
      ? `"${entry}" is an IPv4-mapped block wider than an IPv4 /${WIDEST_IPV4}: ${TOO_WIDE_HINT}`
      : undefined;
  }
  return bits < WIDEST_IPV6 && !privateIpv6.some((range) => within(range, address, bits))
    ? `"${entry}" is wider than a /${WIDEST_IPV6} outside fe80::/10 and fc00::/7: ${TOO_WIDE_HINT}`
    : undefined;
};

/** Whether the block `address/bits` lies inside `range`. */
const within = (
  range: { readonly bits: number; readonly list: BlockList },
  address: string,
  bits: number,
): boolean => bits >= range.bits && range.list.check(address, 'ipv6');

const notAnAddress = (entry: string): string =>
  `"${entry}" is not an IP address, a CIDR block, loopback, linklocal or uniquelocal (or give off, or a hop count)`;
