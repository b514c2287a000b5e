/**
 * Cedar's WebAssembly module, held so that it can be replaced. Cedar parses, validates and evaluates by
 * recursion, and its wasm frames share the V8 stack with JavaScript: once V8 has optimised the module (a
 * warm process), about 75 nested brackets, or an expression about 105 levels deep, exhaust that stack, and
 * the exception leaves the module's memory in a state in which later calls fail or corrupt. So policy text
 * is bounded before Cedar sees it (policy-text.ts) and each policy's expression depth is bounded after it
 * parsed and before it is validated or evaluated (MaxConditionDepth, a third of what a warm module
 * survives); and should Cedar throw all the same, `callCedar` drops the module and loads a fresh instance
 * (milliseconds), so one bad call never poisons the process. Preparsed policy sets live in the instance:
 * users compare `cedarGeneration()` to know when to preparse again.
 */
import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

/** The API of the Cedar module. */
export type Cedar = typeof CedarWasm;

/** Cedar threw instead of answering; the module was replaced by a fresh instance. */
export class CedarTrap extends Error {
  constructor(cause: unknown) {
    super(
      `Cedar failed and was reloaded: ${cause instanceof Error ? cause.message : String(cause)}`.slice(
        0,
        300,
      ),
    );
    this.name = 'CedarTrap';
  }
}

/** Deepest expression (JSON nesting of a policy's conditions in Cedar's JSON form, two per level). */
export const MaxConditionDepth = 72;

const require = createRequire(import.meta.url);
const entry = require.resolve('@cedar-policy/cedar-wasm/nodejs');
let cedar = require(entry) as Cedar;
let generation = 0;

/** Runs `fn` with the current module; a throw replaces the module and becomes a CedarTrap. */
export function callCedar<T>(fn: (cedar: Cedar) => T): T {
  try {
    return fn(cedar);
  } catch (err) {
    // The CommonJS module instantiates its wasm when loaded: evicting it from the cache gives a fresh one.
    delete require.cache[entry];
    cedar = require(entry) as Cedar;
    generation++;
    throw new CedarTrap(err);
  }
}

/** Counts the module replacements; state preparsed under an older generation is gone. */
export function cedarGeneration(): number {
  return generation;
}

/** The nesting depth of a JSON value, measured without recursion. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}
