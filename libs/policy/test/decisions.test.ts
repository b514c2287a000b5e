/**
 * Decisions of the engine over real Cedar: by role (held or implied), by group, forbid wins, default deny,
 * tenant isolation, conditions on arguments (nested, float, null, numbers), annotations, time, client
 * address ranges, look-alike names, and fail-closed denials (a policy that errs, arguments too complex, an
 * action asked about the wrong kind of resource).
 */
import { describe, expect, it } from 'vitest';
import { PolicyEngine } from '../src/index';
import { compiled, request } from './fixtures';

function engine(sets: Record<string, string>): PolicyEngine {
  const e = new PolicyEngine();
  let revision = 0;
  for (const [name, text] of Object.entries(sets)) e.install(compiled(name, text), ++revision);
  return e;
}

const agentsCallTools = `@id("agents-call")
permit (principal in Meshgate::Role::"agent", action == Meshgate::Action::"call_tool", resource);`;

describe('PolicyEngine decisions', () => {
  it('permits by role, held or implied, and denies by default', () => {
    const e = engine({ platform: agentsCallTools });
    expect(e.decide(request())).toEqual({
      v: 1,
      effect: 'allow',
      policies: ['platform/agents-call'],
      reason: 'permitted by policy',
      revision: 1,
    });
    expect(e.decide(request({ principal: { roles: ['platform-admin'] } })).effect).toBe('allow');
    expect(e.decide(request({ principal: { roles: ['auditor'] } }))).toEqual({
      v: 1,
      effect: 'deny',
      policies: [],
      reason: 'no policy permits call_tool',
      revision: 1,
    });
    expect(new PolicyEngine().decide(request()).reason).toBe('no policy permits call_tool');
  });

  it('permits by group, and a forbid wins over every permit', () => {
    const e = engine({
      platform: `${agentsCallTools}
        @id("no-delete") forbid (principal, action, resource == Meshgate::Tool::"fs/delete_file");`,
      acme: `@id("ops-list") permit (principal in Meshgate::Group::"acme/ops", action == Meshgate::Action::"list_tools", resource);`,
    });
    const list = { action: 'list_tools' as const, resource: { kind: 'server' as const, server: 'fs' } };
    expect(e.decide(request({ ...list, principal: { groups: ['ops'] } })).policies).toEqual([
      'acme/ops-list',
    ]);
    expect(e.decide(request({ ...list, principal: { groups: ['dev'] } })).effect).toBe('deny');
    expect(
      e.decide(request({ resource: { kind: 'tool', server: 'fs', name: 'delete_file' } })),
    ).toMatchObject({
      effect: 'deny',
      policies: ['platform/no-delete'],
      reason: 'denied by policy',
      revision: 2,
    });
  });

  it("never applies one tenant's set to another tenant's principal", () => {
    const e = engine({
      platform: '',
      acme: `permit (principal, action, resource);
             permit (principal == Meshgate::Principal::"globex/eve", action, resource);
             permit (principal in Meshgate::Tenant::"globex", action, resource);`,
      globex: `forbid (principal, action, resource);`,
    });
    expect(e.decide(request()).effect).toBe('allow');
    const eve = request({ principal: { tenant: 'globex', id: 'eve' } });
    expect(e.decide(eve)).toMatchObject({ effect: 'deny', policies: ['globex/policy0'] });
    e.remove('globex');
    expect(e.decide(eve)).toMatchObject({ effect: 'deny', reason: 'no policy permits call_tool' });
    expect(e.sets().map((s) => s.name)).toEqual(['acme', 'platform']);
  });

  it('tests arguments: strings, nested values, floats, null and integers', () => {
    const e = engine({
      platform: `permit (principal, action, resource);
        @id("no-etc") forbid (principal, action, resource)
          when { context.arguments.hasTag("path") && context.arguments.getTag("path") like "/etc/*" };
        @id("no-write") forbid (principal, action, resource)
          when { context.arguments.hasTag("options.mode") && context.arguments.getTag("options.mode") == "write" };
        @id("no-half") forbid (principal, action, resource)
          when { context.arguments.hasTag("ratio") && context.arguments.getTag("ratio") == "0.5" };
        @id("no-null") forbid (principal, action, resource)
          when { context.arguments.hasTag("owner") && context.arguments.getTag("owner") == "null" };
        @id("at-most-100") forbid (principal, action, resource)
          when { context.argumentNumbers.hasTag("count") && context.argumentNumbers.getTag("count") > 100 };`,
    });
    const decide = (args: Record<string, unknown>) => e.decide(request({ context: { arguments: args } }));
    expect(
      decide({ path: '/tmp/a', options: { mode: 'read' }, ratio: 0.25, owner: 'me', count: 100 }).effect,
    ).toBe('allow');
    expect(decide({ path: '/etc/passwd' }).policies).toEqual(['platform/no-etc']);
    expect(decide({ options: { mode: 'write' } }).policies).toEqual(['platform/no-write']);
    expect(decide({ ratio: 0.5 }).policies).toEqual(['platform/no-half']);
    expect(decide({ owner: null }).policies).toEqual(['platform/no-null']);
    expect(decide({ count: 101 }).policies).toEqual(['platform/at-most-100']);
    expect(decide({ count: 100.5, 'options.mode': 'write' }).effect).toBe('allow');
    expect(decide({ list: Array.from({ length: 5000 }, () => 1) })).toMatchObject({
      effect: 'deny',
      reason: 'arguments too complex for policy evaluation',
    });
  });

  it('tests annotations, server trust, time and the client address', () => {
    const e = engine({
      platform: `@id("read-only") permit (principal, action, resource)
          when { context.annotations has readOnlyHint && context.annotations.readOnlyHint };
        @id("office-hours") forbid (principal, action, resource)
          unless { context.time.hour >= 8 && context.time.hour < 18 && context.time.weekday >= 1 && context.time.weekday <= 5 };
        @id("internal-net") forbid (principal, action, resource)
          unless { context has clientAddress && context.clientAddress.isInRange(ip("10.0.0.0/8")) };
        @id("trusted") forbid (principal, action, resource) unless { context.serverTrust != "unverified" };`,
    });
    const ok = {
      annotations: { readOnlyHint: true },
      clientAddress: '10.1.2.3',
      serverTrust: 'verified' as const,
    };
    const decide = (context: Record<string, unknown>) =>
      e.decide(request({ context: { ...ok, ...context } }));
    expect(decide({}).policies).toEqual(['platform/read-only']);
    expect(decide({ annotations: { destructiveHint: true } }).reason).toBe('no policy permits call_tool');
    expect(decide({ time: Date.parse('2026-11-24T19:00:00Z') }).policies).toEqual(['platform/office-hours']);
    expect(decide({ time: Date.parse('2026-11-29T10:00:00Z') }).policies).toEqual(['platform/office-hours']);
    expect(decide({ clientAddress: '::ffff:10.9.9.9' }).effect).toBe('allow');
    for (const clientAddress of ['192.168.1.1', 'not an address', undefined])
      expect(decide({ clientAddress }).policies, String(clientAddress)).toEqual(['platform/internal-net']);
    expect(decide({ serverTrust: undefined }).policies).toEqual(['platform/trusted']);
  });

  it('matches names exactly: a look-alike tool is not the tool a policy names', () => {
    const e = engine({ platform: 'permit (principal, action, resource == Meshgate::Tool::"fs/read_file");' });
    expect(e.decide(request()).effect).toBe('allow');
    for (const name of ['r\u0435ad_file', 'read_file\u200b', 'read_ﬁle', 'READ_FILE'])
      expect(e.decide(request({ resource: { kind: 'tool', server: 'fs', name } })).effect, name).toBe('deny');
  });

  it('denies when a policy errs while evaluated, or the action does not fit the resource', () => {
    const errors: string[][] = [];
    const e = new PolicyEngine({ onEvaluationError: (_m, policies) => errors.push([...policies]) });
    e.install(
      compiled(
        'platform',
        `permit (principal, action, resource);
         @id("overflow") forbid (principal, action, resource) when {
           context.argumentNumbers.hasTag("n") && context.argumentNumbers.getTag("n") * 9223372036854775807 > 0 };`,
      ),
      7,
    );
    expect(e.decide(request({ context: { arguments: { n: 2 } } }))).toEqual({
      v: 1,
      effect: 'deny',
      policies: ['platform/overflow'],
      reason: 'policy evaluation failed',
      revision: 7,
    });
    expect(errors).toEqual([['platform/overflow']]);
    expect(e.decide(request({ resource: { kind: 'server', server: 'fs' } })).reason).toBe(
      'call_tool does not apply to a server',
    );
    expect(
      e.decideMany([request(), request({ context: { arguments: { n: 0 } } })]).map((r) => r.effect),
    ).toEqual(['allow', 'allow']);
  });
});
