import { expect } from 'chai';
import {
  addressReasons,
  classifyAddress,
  emptyAllowlist,
  parseAllowlist,
  type AddressReason,
} from '../../../adapters/outbound/addressPolicy.js';

// Classification is pure: nothing here resolves a name or opens a socket.

/** Each address with the reason it is refused for, or `allowed`. */
const table: readonly (readonly [address: string, expected: AddressReason | 'allowed'])[] = [
  // IPv4 special ranges
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.0.1', 'link_local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['100.64.0.1', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.100.100.200', 'metadata'],
  ['192.0.0.8', 'reserved'],
  ['192.0.0.192', 'metadata'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv4 neighbours of the ranges stay allowed
  ['8.8.8.8', 'allowed'],
  ['93.184.215.14', 'allowed'],
  ['1.1.1.1', 'allowed'],
  ['172.15.255.255', 'allowed'],
  ['172.32.0.0', 'allowed'],
  ['100.63.255.255', 'allowed'],
  ['100.128.0.0', 'allowed'],
  ['192.0.1.1', 'allowed'],
  ['198.20.0.0', 'allowed'],
  ['11.0.0.1', 'allowed'],
  ['223.255.255.255', 'allowed'],
  // IPv6 special ranges
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'private'],
  ['fd00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['fd00:ec2::254', 'metadata'],
  ['fe80::1', 'link_local'],
  ['fe80::1%eth0', 'link_local'],
  ['febf::1', 'link_local'],
  ['fec0::1', 'private'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['100::1', 'reserved'],
  ['4000::1', 'reserved'],
  // IPv6 forms embedding an IPv4 address are judged by it
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:7F00:0001', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:8.8.8.8', 'allowed'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['::a00:1', 'private'],
  ['::8.8.8.8', 'allowed'],
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::c0a8:101', 'private'],
  ['64:ff9b:1::a00:1', 'private'],
  ['64:ff9b::8.8.8.8', 'allowed'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:a9fe:a9fe::', 'metadata'],
  ['2002:808:808::1', 'allowed'],
  // Public IPv6
  ['2606:4700::1111', 'allowed'],
  ['2001:4860:4860::8888', 'allowed'],
  ['2a00:1450:4001:82a::200e', 'allowed'],
  // Not addresses at all: fail closed
  ['localhost', 'invalid'],
  ['0177.0.0.1', 'invalid'],
  ['2130706433', 'invalid'],
  ['', 'invalid'],
];

describe('classifyAddress', () => {
  for (const [address, expected] of table) {
    it(`${JSON.stringify(address)} → ${expected}`, () => {
      expect(classifyAddress(address)).to.deep.equal(
        expected === 'allowed' ? { allowed: true } : { allowed: false, reason: expected },
      );
    });
  }

  it('exercises every refusal reason in the table', () => {
    const seen = new Set(table.map(([, expected]) => expected));
    expect(addressReasons.filter((reason) => !seen.has(reason))).to.deep.equal([]);
  });
});

describe('parseAllowlist', () => {
  const allowlist = parseAllowlist([
    'Bark.Example.org',
    '127.0.0.1',
    '10.0.0.0/8',
    'fd00::/8',
    '::1',
  ]);

  it('matches host names case-insensitively and exactly', () => {
    expect(allowlist.allowsHost('bark.example.org')).to.equal(true);
    expect(allowlist.allowsHost('BARK.EXAMPLE.ORG')).to.equal(true);
    expect(allowlist.allowsHost('bark.example.org.')).to.equal(true);
    expect(allowlist.allowsHost('evil.bark.example.org')).to.equal(false);
    expect(allowlist.allowsHost('bark.example.org.evil')).to.equal(false);
    expect(allowlist.allowsHost('example.org')).to.equal(false);
  });

  it('matches IP literal hosts, bracketed or not, against IP and CIDR entries', () => {
    expect(allowlist.allowsHost('127.0.0.1')).to.equal(true);
    expect(allowlist.allowsHost('10.20.30.40')).to.equal(true);
    expect(allowlist.allowsHost('[::1]')).to.equal(true);
    expect(allowlist.allowsHost('[fd12::1]')).to.equal(true);
    expect(allowlist.allowsHost('127.0.0.2')).to.equal(false);
    expect(allowlist.allowsHost('[fe80::1]')).to.equal(false);
  });

  it('matches addresses against IP and CIDR entries, never against names', () => {
    expect(allowlist.allowsAddress('127.0.0.1')).to.equal(true);
    expect(allowlist.allowsAddress('10.255.0.1')).to.equal(true);
    expect(allowlist.allowsAddress('11.0.0.1')).to.equal(false);
    expect(allowlist.allowsAddress('fd00:abcd::1')).to.equal(true);
    expect(allowlist.allowsAddress('fc00::1')).to.equal(false);
    expect(allowlist.allowsAddress('bark.example.org')).to.equal(false);
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(allowlist.allowsAddress('::ffff:127.0.0.1')).to.equal(true);
    expect(allowlist.allowsAddress('::ffff:a00:1')).to.equal(true);
    expect(parseAllowlist(['::ffff:192.168.1.1']).allowsAddress('192.168.1.1')).to.equal(true);
  });

  it('allows nothing when empty', () => {
    expect(emptyAllowlist.allowsHost('localhost')).to.equal(false);
    expect(emptyAllowlist.allowsAddress('127.0.0.1')).to.equal(false);
  });

  it('throws on entries that are not host names, addresses or CIDR blocks', () => {
    for (const bad of [
      '10.0.0.0/33',
      'fd00::/129',
      'bad_host!',
      'example.com/24',
      '10.0.0.0/8/1',
    ]) {
      expect(() => parseAllowlist([bad]), bad).to.throw(TypeError);
    }
  });
});
