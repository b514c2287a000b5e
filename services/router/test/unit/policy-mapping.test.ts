/**
 * Which decision each agent request needs (policy-mapping.ts), and what each list item is for the decision
 * that shows or hides it. Pure: no NATS.
 */
import { describe, expect, it } from 'vitest';
import { itemDecision, ListAction, requiredDecision } from '../../src/policy-mapping';

describe('requiredDecision', () => {
  it('maps calls, prompts, reads, subscriptions and completions to their action and resource', () => {
    expect(requiredDecision('fx', 'tools/call', { name: 'add', arguments: { a: 1 } })).toEqual({
      kind: 'decide',
      action: 'call_tool',
      resource: { kind: 'tool', server: 'fx', name: 'add' },
      arguments: { a: 1 },
      tool: 'add',
    });
    expect(requiredDecision('fx', 'prompts/get', { name: 'greet' })).toEqual({
      kind: 'decide',
      action: 'get_prompt',
      resource: { kind: 'prompt', server: 'fx', name: 'greet' },
    });
    expect(requiredDecision('fx', 'resources/read', { uri: 'file:///a' })).toMatchObject({
      action: 'read_resource',
      resource: { kind: 'resource', name: 'file:///a' },
    });
    expect(requiredDecision('fx', 'resources/subscribe', { uri: 'file:///a' })).toMatchObject({
      action: 'subscribe_resource',
    });
    expect(
      requiredDecision('fx', 'completion/complete', {
        ref: { type: 'ref/prompt', name: 'greet' },
        argument: { name: 'who', value: 'a' },
      }),
    ).toMatchObject({
      action: 'complete',
      resource: { kind: 'prompt', name: 'greet' },
      arguments: { argument: { name: 'who', value: 'a' } },
    });
    expect(
      requiredDecision('fx', 'completion/complete', { ref: { type: 'ref/resource', uri: 'x://y' } }),
    ).toMatchObject({
      action: 'complete',
      resource: { kind: 'resource', name: 'x://y' },
    });
  });

  it('needs no decision for session-wide methods, and refuses methods outside MCP', () => {
    for (const method of [
      'initialize',
      'ping',
      'tools/list',
      'resources/unsubscribe',
      'tasks/get',
      'logging/setLevel',
    ])
      expect(requiredDecision('fx', method, {})).toEqual({ kind: 'none' });
    expect(requiredDecision('fx', 'tools/frobnicate', {})).toEqual({ kind: 'unknown-method' });
  });

  it('leaves requests without the name they must carry to the usual error', () => {
    expect(requiredDecision('fx', 'tools/call', {})).toEqual({ kind: 'malformed' });
    expect(requiredDecision('fx', 'tools/call', { name: 'x'.repeat(257) })).toEqual({ kind: 'malformed' });
    expect(requiredDecision('fx', 'resources/read', { uri: 42 })).toEqual({ kind: 'malformed' });
    expect(requiredDecision('fx', 'completion/complete', { ref: { type: 'ref/other' } })).toEqual({
      kind: 'malformed',
    });
  });

  it('passes arguments only when they are an object', () => {
    expect(requiredDecision('fx', 'tools/call', { name: 'a', arguments: [1, 2] })).not.toHaveProperty(
      'arguments',
    );
    expect(requiredDecision('fx', 'tools/call', { name: 'a', arguments: 'x' })).not.toHaveProperty(
      'arguments',
    );
  });
});

describe('itemDecision', () => {
  it("decides a list item by the use it allows, with a tool's annotations for policies", () => {
    expect(itemDecision('tools', 'fx', { name: 'rm', annotations: { destructiveHint: true } })).toEqual({
      action: 'call_tool',
      resource: { kind: 'tool', server: 'fx', name: 'rm' },
      annotations: { destructiveHint: true },
    });
    expect(itemDecision('prompts', 'fx', { name: 'p' })).toMatchObject({ action: 'get_prompt' });
    expect(itemDecision('resources', 'fx', { uri: 'a://b' })).toMatchObject({ action: 'read_resource' });
    expect(itemDecision('resourceTemplates', 'fx', { uriTemplate: 'a://{x}' })).toMatchObject({
      resource: { kind: 'resource', name: 'a://{x}' },
    });
    expect(ListAction).toEqual({
      tools: 'list_tools',
      resources: 'list_resources',
      resourceTemplates: 'list_resources',
      prompts: 'list_prompts',
    });
  });

  it('hides items without their identifying string', () => {
    expect(itemDecision('tools', 'fx', { title: 'no name' })).toBeNull();
    expect(itemDecision('resources', 'fx', { name: 'no uri' })).toBeNull();
  });
});
