/**
 * Compiling policy sets: parse and validation errors with their 1-based line and column (characters, not
 * bytes), policy ids from @id or Cedar's generated ones, colliding ids, templates, oversize text, nesting
 * Cedar's WebAssembly could not survive, and the context attributes a set reads.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicySet, MaxPolicySetBytes, type CompileResult } from '../src/index';
import { compiled } from './fixtures';

const errorsOf = (result: CompileResult) => (result.ok ? [] : result.errors);

describe('compilePolicySet', () => {
  it('reports a syntax error on line 3 with its column', () => {
    const text = [
      '@id("a")',
      'permit (principal, action, resource);',
      '  permit (principal, action resource);',
    ].join('\n');
    const [error, ...more] = errorsOf(compilePolicySet('platform', text));
    expect(more).toEqual([]);
    expect(error).toMatchObject({ line: 3, column: 29 });
    expect(error?.message).toMatch(/unexpected token `resource`/);
  });

  it('reports what validation finds, with the policy id and the position in characters', () => {
    const text = [
      '// ünïcödé comment: columns count characters 😀',
      '@id("typo")',
      'permit (principal, action, resource) when { principal.nme == "x" };',
      'permit (principal in Meshgate::Rol::"agent", action, resource);',
      'permit (principal, action, resource) when { context.arguments.getTag("x") == "y" };',
      'permit (principal, action == Meshgate::Action::"call", resource);',
    ].join('\n');
    const errors = errorsOf(compilePolicySet('acme', text));
    expect(errors.map((e) => [e.policyId, e.line, e.column])).toEqual([
      ['typo', 3, 45],
      ['policy1', 4, 22],
      ['policy2', 5, 45],
      ['policy3', 6, 30],
    ]);
    expect(errors[0]?.message).toMatch(
      /for policy `typo`, attribute `nme` on entity type `Meshgate::Principal` not found/,
    );
    expect(errors[2]?.message).toMatch(/hasTag/);
    // Cedar finds an unknown context attribute once per action; it is reported once.
    const once = errorsOf(
      compilePolicySet('acme', 'permit (principal, action, resource) when { context.nope };'),
    );
    expect(once).toEqual([expect.objectContaining({ line: 1, column: 45, policyId: 'policy0' })]);
  });

  it('names policies by @id, else by the id Cedar generates in source order', () => {
    const text = Array.from({ length: 12 }, (_, i) =>
      i === 4
        ? '@id("fifth") permit (principal, action, resource);'
        : `permit (principal, action, resource) when { ${i} == ${i} };`,
    ).join('\n');
    const set = compiled('platform', text);
    expect([...set.policies.keys()]).toEqual([
      'policy0',
      'policy1',
      'policy2',
      'policy3',
      'fifth',
      'policy5',
      'policy6',
      'policy7',
      'policy8',
      'policy9',
      'policy10',
      'policy11',
    ]);
    expect(set.policies.get('policy10')).toBe('permit (principal, action, resource) when { 10 == 10 };');
    expect(set.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses ids that collide, with the line of the second', () => {
    const text = [
      '@id("same") permit (principal, action, resource);',
      '',
      '@id("same") forbid (principal, action, resource);',
    ].join('\n');
    expect(errorsOf(compilePolicySet('platform', text))).toEqual([
      { message: 'policy id "same" is used twice in this set', policyId: 'same', line: 3, column: 1 },
    ]);
    const generated = [
      'permit (principal, action, resource);',
      '@id("policy0") forbid (principal, action, resource);',
    ].join('\n');
    expect(errorsOf(compilePolicySet('platform', generated))[0]?.message).toMatch(/"policy0" is used twice/);
    expect(
      errorsOf(compilePolicySet('platform', '@id("tab\there") permit (principal, action, resource);'))[0]
        ?.message,
    ).toMatch(/@id must be/);
  });

  it('refuses templates, oversize text and invalid set names', () => {
    expect(
      errorsOf(compilePolicySet('platform', '\npermit (principal == ?principal, action, resource);')),
    ).toEqual([{ message: expect.stringMatching(/templates/), line: 2, column: 1 }]);
    const huge = `// ${'x'.repeat(MaxPolicySetBytes)}\n`;
    expect(errorsOf(compilePolicySet('platform', huge))[0]?.message).toMatch(/at most 1000000 are accepted/);
    expect(errorsOf(compilePolicySet('Acmé', 'permit (principal, action, resource);'))[0]?.message).toMatch(
      /invalid policy set name/,
    );
  });

  it('refuses nesting Cedar could not survive, before Cedar sees it, and keeps working after', () => {
    const nested = (n: number) =>
      `permit (principal, action, resource) when { ${'('.repeat(n)}true${')'.repeat(n)} };`;
    const chain = (n: number) =>
      `permit (principal, action, resource) when { principal.id${' == "x" || principal.id'.repeat(n)} == "y" };`;
    for (const text of [
      nested(10_000),
      `\n\n${nested(30)}`,
      chain(200),
      chain(40),
      `permit (principal, action, resource) when { ${'('.repeat(5000)}`,
    ]) {
      const [error] = errorsOf(compilePolicySet('platform', text));
      expect(error?.message).toMatch(/nests too deeply/);
    }
    expect(errorsOf(compilePolicySet('platform', `\n\n${nested(30)}`))[0]?.line).toBe(3);
    expect(compilePolicySet('platform', nested(20)).ok).toBe(true);
    expect(compilePolicySet('platform', chain(30)).ok).toBe(true);
  });

  it('knows which context attributes a set reads', () => {
    const set = compiled(
      'platform',
      `permit (principal, action, resource) when { context.time.hour < 18 && context has clientAddress };
       forbid (principal, action, resource) when { context.argumentNumbers.hasTag("n") };`,
    );
    expect([...set.context].sort()).toEqual(['argumentNumbers', 'clientAddress', 'time']);
    expect([...compiled('platform', 'permit (principal, action, resource);').context]).toEqual([]);
    expect(compiled('platform', '').policies.size).toBe(0);
  });
});
