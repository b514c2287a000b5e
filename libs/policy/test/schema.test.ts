/**
 * The Cedar schema and the entities of a request: the schema parses and its appliesTo matches the table
 * the engine checks requests with, implied roles agree with libs/auth, entity ids and parents follow the
 * documented spelling, only the context attributes the policies read are built, and client addresses and
 * instants become what Cedar can take.
 */
import { describe, expect, it } from 'vitest';
import { can } from '@meshgate/auth';
import { PolicyAction, Role } from '@meshgate/contracts';
import {
  ActionResources,
  actionAppliesTo,
  clientIp,
  effectiveRoles,
  MeshgateSchema,
  requestTime,
  ResourceEntityTypes,
} from '../src/index';
import { callCedar } from '../src/cedar-runtime';
import { cedarRequest } from '../src/entities';
import { request, Tuesday10 } from './fixtures';

describe('the Meshgate schema', () => {
  it('parses, and applies each action to the resources ActionResources names', () => {
    const json = callCedar((cedar) => cedar.schemaToJson(MeshgateSchema));
    if (json.type !== 'success') throw new Error(JSON.stringify(json.errors));
    const actions = json.json['Meshgate']!.actions;
    expect(Object.keys(actions).sort()).toEqual([...PolicyAction.options].sort());
    for (const action of PolicyAction.options) {
      const types = actions[action]?.appliesTo?.resourceTypes.map((t) => `Meshgate::${t}`).sort();
      expect(types, action).toEqual(ActionResources[action].map((kind) => ResourceEntityTypes[kind]).sort());
      expect(actions[action]?.appliesTo?.principalTypes).toEqual(['Principal']);
    }
    expect(actionAppliesTo('complete', 'resource')).toBe(true);
    expect(actionAppliesTo('call_tool', 'server')).toBe(false);
  });

  it('implies the roles libs/auth implies', () => {
    for (const held of Role.options)
      for (const other of Role.options)
        expect(effectiveRoles([held]).includes(other), `${held} -> ${other}`).toBe(
          can({ tenant: 'acme', roles: [held] }, other, 'acme'),
        );
    expect(effectiveRoles(['admin', 'auditor'])).toEqual(['admin', 'auditor']);
  });
});

describe('a Cedar request', () => {
  const all = new Set([
    'arguments',
    'argumentNumbers',
    'annotations',
    'serverTrust',
    'protocolVersion',
    'time',
    'clientAddress',
  ] as const);

  it('names the principal, its roles, groups and tenant, and the resource under its server', () => {
    const req = request({ principal: { roles: ['admin'], groups: ['ops'] } });
    const built = cedarRequest(req, new Set());
    expect(built?.principal).toEqual({ type: 'Meshgate::Principal', id: 'acme/bob' });
    expect(built?.resource).toEqual({ type: 'Meshgate::Tool', id: 'fs/read_file' });
    expect(built?.entities[0]?.parents).toEqual([
      { type: 'Meshgate::Role', id: 'admin' },
      { type: 'Meshgate::Role', id: 'auditor' },
      { type: 'Meshgate::Group', id: 'acme/ops' },
      { type: 'Meshgate::Tenant', id: 'acme' },
    ]);
    expect(built?.entities[1]).toEqual({
      uid: { type: 'Meshgate::Tool', id: 'fs/read_file' },
      attrs: { name: 'read_file', server: 'fs' },
      parents: [{ type: 'Meshgate::Server', id: 'fs' }],
    });
    expect(built?.context).toEqual({});
  });

  it('spells resources, prompts and servers as documented', () => {
    const resource = cedarRequest(
      request({ action: 'read_resource', resource: { kind: 'resource', server: 'fs', name: 'file:///a' } }),
      new Set(),
    );
    expect(resource?.entities[1]?.attrs).toEqual({ uri: 'file:///a', server: 'fs' });
    expect(resource?.resource.id).toBe('fs/file:///a');
    const server = cedarRequest(
      request({
        action: 'list_tools',
        resource: { kind: 'server', server: 'fs' },
        context: { serverTrust: 'verified' },
      }),
      new Set(),
    );
    expect(server?.entities[1]).toEqual({
      uid: { type: 'Meshgate::Server', id: 'fs' },
      attrs: { name: 'fs', trust: 'verified' },
      parents: [],
    });
  });

  it('builds every context attribute the policies read, with defaults for absent ones', () => {
    const built = cedarRequest(request({ context: { annotations: { readOnlyHint: true } } }), all);
    expect(built?.context).toMatchObject({
      annotations: { readOnlyHint: true },
      serverTrust: 'unverified',
      protocolVersion: '',
      time: { unix: Tuesday10 / 1000, hour: 10, weekday: 2 },
    });
    expect(built?.context).not.toHaveProperty('clientAddress');
    expect(built?.entities).toHaveLength(4);
  });

  it('takes only client addresses that are IP addresses', () => {
    expect(clientIp('10.1.2.3')).toBe('10.1.2.3');
    expect(clientIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientIp('2001:db8::1')).toBe('2001:db8::1');
    for (const bad of ['10.0.0.0/8', 'fe80::1%eth0', 'localhost', '', '999.1.1.1', '01.2.3.4'])
      expect(clientIp(bad), bad).toBeUndefined();
    expect(requestTime(Date.parse('2026-11-29T23:59:59.999Z'))).toEqual({
      unix: Date.parse('2026-11-29T23:59:59Z') / 1000,
      hour: 23,
      weekday: 0,
    });
  });
});
