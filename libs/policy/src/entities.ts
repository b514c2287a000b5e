/**
 * A DecisionRequest as a Cedar request: entity ids, the principal with every role it holds or that one of
 * them implies, its groups and its tenant as parents, the resource under its server, and the context the
 * policies in force read (an attribute no policy reads is left out, which keeps evaluation and the
 * decision cache lean). Entity ids: Principal `<tenant>/<id>`, Group `<tenant>/<group>`, Role `<role>`,
 * Tenant `<tenant>`, Server `<name>`, Tool `<server>/<tool>`, Resource `<server>/<uri>`, Prompt
 * `<server>/<name>`. Pure: no I/O.
 */
import { isIP } from 'node:net';
import type { CedarValueJson, Context, EntityJson, TypeAndId } from '@cedar-policy/cedar-wasm/nodejs';
import type { DecisionRequest, Principal, PolicyContext, PolicyResource, Role } from '@meshgate/contracts';
import { argumentTags } from './arguments';
import { CedarNamespace, ResourceEntityTypes, type ContextAttribute } from './cedar-schema';

/** Roles that a role includes besides itself (the same as libs/auth `can`). */
export const ImpliedRoles: Readonly<Record<Role, readonly Role[]>> = {
  'platform-admin': ['admin', 'auditor', 'agent'],
  admin: ['auditor'],
  auditor: [],
  agent: [],
};

/** The request Cedar evaluates (everything but the policy set). */
export interface CedarRequest {
  principal: TypeAndId;
  action: TypeAndId;
  resource: TypeAndId;
  context: Context;
  entities: EntityJson[];
}

const Hints = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

const uid = (type: string, id: string): TypeAndId => ({ type: `${CedarNamespace}::${type}`, id });

/** The roles `roles` amount to: each held and each implied, once, sorted. */
export function effectiveRoles(roles: readonly Role[]): Role[] {
  return [...new Set(roles.flatMap((role) => [role, ...ImpliedRoles[role]]))].sort();
}

/** The Cedar id of the principal entity. */
export function principalUid(p: Pick<Principal, 'tenant' | 'id'>): TypeAndId {
  return uid('Principal', `${p.tenant}/${p.id}`);
}

/** The Cedar id of the resource entity. */
export function resourceUid(r: PolicyResource): TypeAndId {
  return { type: ResourceEntityTypes[r.kind], id: r.kind === 'server' ? r.server : `${r.server}/${r.name}` };
}

/**
 * The Cedar request of `req`, with the context attributes in `used`; null when the arguments are needed
 * but too deep or too many to be judged.
 */
export function cedarRequest(req: DecisionRequest, used: ReadonlySet<ContextAttribute>): CedarRequest | null {
  const p = req.principal;
  const principal: EntityJson = {
    uid: principalUid(p),
    attrs: { id: p.id, tenant: p.tenant, kind: p.kind },
    parents: [
      ...effectiveRoles(p.roles).map((role) => uid('Role', role)),
      ...p.groups.map((group) => uid('Group', `${p.tenant}/${group}`)),
      uid('Tenant', p.tenant),
    ],
  };
  const resource = resourceEntity(req.resource, req.context);
  const entities = [principal, resource];
  const context: Context = {};
  if (used.has('arguments') || used.has('argumentNumbers')) {
    const tags = argumentTags(req.context.arguments);
    if (tags === null) return null;
    for (const [name, type, values] of [
      ['arguments', 'Arguments', tags.text],
      ['argumentNumbers', 'ArgumentNumbers', tags.numbers],
    ] as const) {
      if (!used.has(name)) continue;
      context[name] = { __entity: uid(type, 'request') };
      entities.push({ uid: uid(type, 'request'), attrs: {}, parents: [], tags: values });
    }
  }
  for (const name of used) {
    const value = contextValue(name, req.context);
    if (value !== undefined) context[name] = value;
  }
  return {
    principal: principal.uid as TypeAndId,
    action: actionUid(req.action),
    resource: resource.uid as TypeAndId,
    context,
    entities,
  };
}

/** The Cedar id of an action. */
export function actionUid(action: string): TypeAndId {
  return uid('Action', action);
}

/** The client address Cedar can take as an `ipaddr`, or undefined (IPv4-mapped IPv6 becomes IPv4). */
export function clientIp(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  return isIP(ip) !== 0 && !ip.includes('%') ? ip : undefined;
}

/** The UTC time fields of an epoch-ms instant, as `context.time` holds them. */
export function requestTime(ms: number): { unix: number; hour: number; weekday: number } {
  const date = new Date(ms);
  return { unix: Math.floor(ms / 1000), hour: date.getUTCHours(), weekday: date.getUTCDay() };
}

function contextValue(name: ContextAttribute, ctx: PolicyContext): CedarValueJson | undefined {
  switch (name) {
    case 'annotations': {
      const hints: Record<string, boolean> = {};
      for (const hint of Hints) {
        const value = ctx.annotations?.[hint];
        if (typeof value === 'boolean') hints[hint] = value;
      }
      return hints;
    }
    case 'serverTrust':
      return ctx.serverTrust ?? 'unverified';
    case 'protocolVersion':
      return ctx.protocolVersion ?? '';
    case 'time':
      return requestTime(ctx.time);
    case 'clientAddress': {
      const ip = clientIp(ctx.clientAddress);
      return ip === undefined ? undefined : { __extn: { fn: 'ip', arg: ip } };
    }
    default:
      return undefined;
  }
}

function resourceEntity(r: PolicyResource, ctx: PolicyContext): EntityJson {
  const trust = ctx.serverTrust ?? 'unverified';
  if (r.kind === 'server') return { uid: resourceUid(r), attrs: { name: r.server, trust }, parents: [] };
  const attrs =
    r.kind === 'resource' ? { uri: r.name, server: r.server } : { name: r.name, server: r.server };
  return { uid: resourceUid(r), attrs, parents: [uid('Server', r.server)] };
}
