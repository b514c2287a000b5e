/**
 * Compiles the text of one policy set: refuses oversize text and nesting Cedar cannot survive, parses it,
 * validates it against the Meshgate schema in strict mode, and names its policies. Every error carries the
 * 1-based line and column it was found at. A policy's id is its `@id("...")` annotation, else the id Cedar
 * generates (`policy<n>`, n counted from 0 in source order); two policies of one set may not share an id.
 * Templates (`?principal`, `?resource`) are refused: nothing links them. The compiled set also says which
 * context attributes its policies read, so that decisions build and cache only those. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';
import { PolicySetName } from '@meshgate/contracts';
import { callCedar, jsonDepth, MaxConditionDepth, type Cedar } from './cedar-runtime';
import { ContextAttributes, MeshgateSchema, type ContextAttribute } from './cedar-schema';
import { nestingProblem, TextPositions } from './policy-text';

/** One reason a policy set was refused. */
export interface CompileError {
  message: string;
  line?: number;
  column?: number;
  /** The id of the policy at fault, when one is. */
  policyId?: string;
}

/** A policy set that parsed and validated; install it in a PolicyEngine. */
export interface CompiledPolicySet {
  readonly name: PolicySetName;
  /** Policy text by id, in source order. */
  readonly policies: ReadonlyMap<string, string>;
  /** The context attributes its policies read. */
  readonly context: ReadonlySet<ContextAttribute>;
  /** Validator warnings (the set is valid nonetheless). */
  readonly warnings: readonly CompileError[];
  /** SHA-256 of the text, hex. */
  readonly sha256: string;
}

export type CompileResult = { ok: true; set: CompiledPolicySet } | { ok: false; errors: CompileError[] };

/** Largest policy set text, in UTF-8 bytes. */
export const MaxPolicySetBytes = 1_000_000;
const MaxErrors = 50;
const PolicyIdPattern = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

/** Parses and validates `text` as the policy set `name`. */
export function compilePolicySet(name: PolicySetName, text: string): CompileResult {
  if (!PolicySetName.safeParse(name).success)
    return refuse([{ message: `invalid policy set name ${JSON.stringify(String(name).slice(0, 80))}` }]);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MaxPolicySetBytes)
    return refuse([
      { message: `the policy set is ${bytes} bytes; at most ${MaxPolicySetBytes} are accepted` },
    ]);
  const positions = new TextPositions(text);
  const nesting = nestingProblem(text);
  if (nesting) return refuse([{ message: nesting.message, ...positions.at(nesting.index) }]);
  try {
    return callCedar((cedar) => compileParsed(cedar, name, text, positions));
  } catch (err) {
    // Cedar threw (and was reloaded); the guards exist so that this never happens.
    return refuse([{ message: `Cedar could not process the policy set (${String(err).slice(0, 160)})` }]);
  }
}

function compileParsed(
  cedar: Cedar,
  name: PolicySetName,
  text: string,
  positions: TextPositions,
): CompileResult {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') return refuse(parts.errors.map((e) => fromCedar(e, positions)));
  const errors: CompileError[] = parts.policy_templates.map((template) => ({
    message: 'templates (policies with ?principal or ?resource slots) are not supported',
    ...positions.at(Math.max(0, text.indexOf(template))),
  }));
  const named = namePolicies(cedar, parts.policies, text, positions, errors);
  // Validation and evaluation recurse deeper than parsing: nothing too deep may reach them.
  if (errors.length > 0) return refuse(errors);
  const validation = cedar.validate({
    schema: MeshgateSchema,
    policies: { staticPolicies: text },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') return refuse(validation.errors.map((e) => fromCedar(e, positions)));
  const idOf = (generated: string) => named.idByGenerated.get(generated) ?? generated;
  const found = validation.validationErrors.map((v) => fromCedar(v.error, positions, idOf(v.policyId)));
  if (found.length > 0) return refuse(onePerPlace(found));
  const warnings = [
    ...validation.validationWarnings.map((v) => fromCedar(v.error, positions, idOf(v.policyId))),
    ...validation.otherWarnings.map((e) => fromCedar(e, positions)),
  ];
  return {
    ok: true,
    set: {
      name,
      policies: named.policies,
      context: named.context,
      warnings: warnings.slice(0, MaxErrors),
      sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    },
  };
}

interface NamedPolicies {
  policies: Map<string, string>;
  idByGenerated: Map<string, string>;
  context: Set<ContextAttribute>;
}

/** Ids for the parsed policies (Cedar hands them back sorted by generated id as text: policy0, policy1, policy10…). */
function namePolicies(
  cedar: Cedar,
  texts: string[],
  source: string,
  positions: TextPositions,
  errors: CompileError[],
): NamedPolicies {
  const generated = texts.map((_, i) => `policy${i}`).sort();
  const inSourceOrder = texts
    .map((policy, k) => ({ policy, generated: generated[k]!, n: Number(generated[k]!.slice(6)) }))
    .sort((a, b) => a.n - b.n);
  const named: NamedPolicies = { policies: new Map(), idByGenerated: new Map(), context: new Set() };
  let cursor = 0;
  for (const { policy, generated: cedarId } of inSourceOrder) {
    const at = source.indexOf(policy, cursor);
    cursor = at === -1 ? cursor : at + policy.length;
    const where = positions.at(Math.max(at, 0));
    const json = cedar.policyToJson(policy);
    if (json.type === 'failure') {
      errors.push(...json.errors.map((e) => ({ ...fromCedar(e, positions), ...where })));
      continue;
    }
    const depth = jsonDepth(json.json.conditions);
    if (depth > MaxConditionDepth) {
      errors.push({
        message: `policy nests too deeply (its conditions are ${depth} levels deep in Cedar's JSON form, at most ${MaxConditionDepth}): use sets and "contains" instead of long chains of operators`,
        ...where,
      });
      continue;
    }
    const annotated = json.json.annotations?.['id'];
    const id = annotated ?? cedarId;
    if (annotated !== undefined && !PolicyIdPattern.test(annotated))
      errors.push({ message: '@id must be 1 to 128 printable ASCII characters', ...where });
    else if (named.policies.has(id))
      errors.push({ message: `policy id "${id}" is used twice in this set`, policyId: id, ...where });
    named.policies.set(id, policy);
    named.idByGenerated.set(cedarId, id);
    contextReads(json.json, named.context);
  }
  return named;
}

/** Adds to `into` the context attributes `node` reads (all of them when it uses `context` whole). */
function contextReads(node: unknown, into: Set<ContextAttribute>): void {
  if (Array.isArray(node)) for (const item of node) contextReads(item, into);
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const access = (node as Record<string, unknown>)['.'] ?? (node as Record<string, unknown>)['has'];
  if (access !== undefined && typeof access === 'object' && access !== null) {
    const { left, attr } = access as { left?: { Var?: unknown }; attr?: string | string[] };
    const first = Array.isArray(attr) ? attr[0] : attr;
    if (left?.Var === 'context' && first !== undefined) {
      for (const name of ContextAttributes) if (name === first) into.add(name);
      return;
    }
  }
  if ((node as { Var?: unknown }).Var === 'context') for (const name of ContextAttributes) into.add(name);
  for (const value of Object.values(node)) contextReads(value, into);
}

function fromCedar(e: DetailedError, positions: TextPositions, policyId?: string): CompileError {
  const location = e.sourceLocations?.[0];
  const start = location?.start;
  let message = location?.label ? `${e.message}: ${location.label}` : e.message;
  if (e.help) message = `${message} (${e.help})`;
  if (policyId !== undefined) message = message.replace(/`policy\d+`/g, `\`${policyId}\``);
  return {
    message: message.slice(0, 1000),
    ...(start !== undefined ? positions.atByte(start) : {}),
    ...(policyId !== undefined ? { policyId } : {}),
  };
}

/** The validator reports a fault once per action the policy may apply to: keep one per place and kind. */
function onePerPlace(errors: CompileError[]): CompileError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const kind = e.message.replace(/ for Meshgate::Action::"[^"]*"/g, '');
    const key = JSON.stringify([e.policyId, e.line, e.column, kind]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function refuse(errors: CompileError[]): CompileResult {
  return { ok: false, errors: errors.slice(0, MaxErrors) };
}
