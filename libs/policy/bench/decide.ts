/**
 * Micro-benchmark of in-process decisions (not a test): µs per decision and decisions per second, cached
 * and uncached, for a role-only platform set and for a set that also reads arguments, time and the client
 * address. Run from the repository root: `node --import tsx libs/policy/bench/decide.ts`.
 */
import type { DecisionRequest } from '@meshgate/contracts';
import { compilePolicySet, PolicyEngine } from '../src/index';

const RoleOnly = `@id("agents-use-everything")
permit (principal in Meshgate::Role::"agent", action, resource);`;

const WithConditions = `${RoleOnly}
@id("no-etc") forbid (principal, action == Meshgate::Action::"call_tool", resource)
  when { context.arguments.hasTag("path") && context.arguments.getTag("path") like "/etc/*" };
@id("office-hours") forbid (principal in Meshgate::Group::"acme/contractors", action, resource)
  unless { context.time.hour >= 8 && context.time.hour < 18 };
@id("internal") forbid (principal, action, resource)
  unless { context has clientAddress && context.clientAddress.isInRange(ip("10.0.0.0/8")) };`;

function request(i: number): DecisionRequest {
  return {
    v: 1,
    principal: { tenant: 'acme', id: `agent-${i}`, kind: 'agent', roles: ['agent'], groups: ['ops'] },
    action: 'call_tool',
    resource: { kind: 'tool', server: 'fs', name: 'read_file' },
    context: {
      arguments: { path: `/tmp/file-${i}.txt`, options: { encoding: 'utf-8' } },
      annotations: { readOnlyHint: true },
      serverTrust: 'verified',
      protocolVersion: '2025-06-18',
      time: Date.now(),
      clientAddress: '10.1.2.3',
    },
  };
}

function engineWith(text: string, cacheSize: number): PolicyEngine {
  const compiled = compilePolicySet('platform', text);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const engine = new PolicyEngine({ cacheSize });
  engine.install(compiled.set, 1);
  return engine;
}

function measure(label: string, engine: PolicyEngine, next: (i: number) => DecisionRequest, n: number): void {
  for (let i = 0; i < Math.min(n, 2_000); i++) engine.decide(next(i));
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) engine.decide(next(i));
  const us = Number(process.hrtime.bigint() - started) / 1_000 / n;
  console.log(
    `${label.padEnd(44)} ${us.toFixed(2).padStart(8)} µs/decision ${Math.round(1e6 / us)
      .toString()
      .padStart(9)} decisions/s`,
  );
}

const same = request(0);
for (const [name, text] of [
  ['role-only set', RoleOnly],
  ['set reading arguments, time, address', WithConditions],
] as const) {
  measure(`cached, ${name}`, engineWith(text, 10_000), () => same, 200_000);
  measure(`uncached, ${name}`, engineWith(text, 0), request, 20_000);
}
