/**
 * The naming plumbing of the feature suite: identity on per-server endpoints, `<server>__<name>` and
 * `<server>+<uri>` on federated ones, other servers' names left out, and bad server names or separators.
 */
import { describe, expect, it } from 'vitest';
import { federatedNaming, fixtureNames, perServerNaming } from '../src/index';

describe('perServerNaming', () => {
  it('passes every kind of name through unchanged both ways', () => {
    for (const mapping of Object.values(perServerNaming)) {
      expect(mapping.toWire('fixture://items/{id}')).toBe('fixture://items/{id}');
      expect(mapping.fromWire('fx__echo')).toBe('fx__echo');
    }
  });
});

describe('federatedNaming', () => {
  const fx = federatedNaming('fx');

  it('namespaces tools and prompts with the separator and URIs and templates with +', () => {
    expect(fx.tool.toWire('echo')).toBe('fx__echo');
    expect(fx.prompt.toWire('with-image')).toBe('fx__with-image');
    expect(fx.uri.toWire('fixture://text')).toBe('fx+fixture://text');
    expect(fx.uriTemplate.toWire('fixture://items/{id}')).toBe('fx+fixture://items/{id}');
    expect(federatedNaming('fx-2', '.').tool.toWire('echo')).toBe('fx-2.echo');
  });

  it('maps wire names back, splitting at the prefix only', () => {
    expect(fx.tool.fromWire('fx__echo')).toBe('echo');
    expect(fx.tool.fromWire('fx__a__b')).toBe('a__b');
    expect(fx.uri.fromWire('fx+fixture://a+b')).toBe('fixture://a+b');
    expect(fx.uriTemplate.fromWire(fx.uriTemplate.toWire('x://{id}'))).toBe('x://{id}');
  });

  it("leaves other servers' names, bare names and empty remainders out", () => {
    for (const wire of ['echo', 'fxa__echo', 'other__echo', 'fx__', 'fx_echo', 'fx+echo']) {
      expect(fx.tool.fromWire(wire)).toBeUndefined();
    }
    for (const wire of ['fixture://text', 'fxa+fixture://text', 'fx+', 'fx__fixture://text']) {
      expect(fx.uri.fromWire(wire)).toBeUndefined();
    }
    expect(fixtureNames(fx.tool, ['everything__echo', 'fx__echo', 'fx__add', 'plain'])).toEqual([
      'echo',
      'add',
    ]);
  });

  it('rejects server names and separators that would make the mapping ambiguous', () => {
    for (const server of ['', '1fx', 'f_x', 'f.x', 'f+x', 'x'.repeat(64)]) {
      expect(() => federatedNaming(server)).toThrow(/invalid server name/);
    }
    for (const sep of ['', 'a', '-', '_1']) {
      expect(() => federatedNaming('fx', sep)).toThrow(/invalid separator/);
    }
  });
});
