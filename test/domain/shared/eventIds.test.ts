import { expect } from 'chai';
import { eventIdFor } from '../../../domain/shared/eventIds.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('given no order key, then the id is a version-5 style hash of command and index, the same every time', () => {
    const id = eventIdFor('cmd-1', 0);
    // sha1 of `tidings:cmd-1:0` with the version and variant bits set, worked out outside the
    // code: the ids already in every log depend on it, so it must never change.
    expect(id).to.equal('dcbfff2e-1a2b-56bd-96e5-833c39731f4d');
    expect(UUID.exec(id)?.[1]).to.equal('5');
    expect(eventIdFor('cmd-1', 0)).to.equal(id);
    expect(eventIdFor('cmd-1', 1)).to.not.equal(id);
    expect(eventIdFor('cmd-2', 0)).to.not.equal(id);
  });

  it('given an order key, then the id is version 8, starts with that time, and is the same for a repeat', () => {
    const at = Date.parse('2026-11-25T01:02:03.456Z');
    const id = eventIdFor('router:abc', 0, at);
    expect(id).to.equal('01a21039-58c0-8cd7-9204-34a7fe416b8c');
    expect(UUID.exec(id)?.[1]).to.equal('8');
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).to.equal(at);
    expect(eventIdFor('router:abc', 0, at)).to.equal(id);
    expect(eventIdFor('router:abc', 1, at)).to.not.equal(id);
    // The order key is part of the identity: a repeat must give the same one.
    expect(eventIdFor('router:abc', 0, at + 1)).to.not.equal(id);
  });

  it('given order keys, then ids sort by them (whatever the commands), so the index grows at its end', () => {
    const base = Date.parse('2026-11-25T00:00:00Z');
    const ids = Array.from({ length: 200 }, (_, n) =>
      eventIdFor(`cmd-${199 - n}`, n % 3, base + n),
    );
    expect([...ids].sort()).to.deep.equal(ids);
  });

  it('ignores an order key that is not a usable time, falling back to the hash form', () => {
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(eventIdFor('cmd', 0, bad), String(bad)).to.equal(
        '1765ecaf-7dc0-50c6-b7cc-3ad84e5897d9',
      );
    }
  });
});
