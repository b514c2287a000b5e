/**
 * What the feature suite is told about the endpoint under test, and the context its test files share:
 * the connected probe and tool calls made through the endpoint's naming.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Naming } from './naming';
import type { Era } from './protocol-era';
import type { Probe } from './probe-client';

/** The server info an endpoint answers initialize with when it answers for itself (a federated gateway). */
export interface GatewayInfo {
  name: string;
  version?: string;
  title?: string;
}

/** Options of `featureSuite`. */
export interface FeatureSuiteOptions {
  /** How the endpoint shows the fixture's tool and prompt names, resource URIs and URI templates. */
  naming: Naming;
  /** The protocol era the probe asks for; tests of features the era lacks are not registered. */
  era: Era;
  /** The fixture lists the `crash` tool (the stdio fixture does). */
  crashable?: boolean;
  /**
   * Set when the endpoint answers initialize itself rather than relaying the fixture's answer (Meshgate's
   * federated `/mcp`: `{ name: 'meshgate' }`); the initialize test then expects this server info and
   * checks that the fixture's does not appear.
   */
  gatewayInfo?: GatewayInfo;
  /**
   * The clientInfo name the fixture sees, which `whoami` reports: the probe's own (`fixture-probe`, the
   * default) when the probe talks to the fixture, the gateway's when a gateway connects upstream itself.
   */
  upstreamClientName?: string;
  /**
   * Set when the endpoint answers in the probe's era even where the fixture is newer (Meshgate converts
   * results down to the agent's version): initialize then shows no capability the era lacks (tasks before
   * 2025-11-25). Unset: the fixture's capabilities as the fixture itself sends them.
   */
  eraBridged?: boolean;
}

/** The suite's probe and options, handed to every test file of the suite. */
export interface SuiteContext {
  readonly opts: FeatureSuiteOptions;
  readonly naming: Naming;
  /** The suite's connected probe; throws when it did not connect. */
  readonly probe: () => Probe;
  /** Calls the fixture's tool `name` (named through `naming`) with `args`. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>;
}

/** Builds the {@link SuiteContext} over `probe`. */
export function suiteContext(probe: () => Probe, opts: FeatureSuiteOptions): SuiteContext {
  return {
    opts,
    naming: opts.naming,
    probe,
    call: async (name, args = {}) =>
      (await probe().client.callTool({
        name: opts.naming.tool.toWire(name),
        arguments: args,
      })) as CallToolResult,
  };
}
