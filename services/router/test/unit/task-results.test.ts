import { describe, expect, it } from 'vitest';
import { agentUsesTasks } from '../../src/task-results';
import { newSession } from '../harness';

const session = (protocolVersion: string, capabilities: Record<string, unknown>) => ({
  ...newSession({ kind: 'federated' }, capabilities),
  protocolVersion,
});

describe('agentUsesTasks', () => {
  it('is true for an agent of 2025-11-25 or later that declared tasks or asked for a task', () => {
    expect(agentUsesTasks(session('2025-11-25', { tasks: {} }), {})).toBe(true);
    expect(agentUsesTasks(session('2025-11-25', {}), { task: { ttl: 1 } })).toBe(true);
    const extension = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
    expect(agentUsesTasks(session('2026-07-28', extension), {})).toBe(true);
  });

  it('is false for older eras whatever they send, and for agents that declared nothing', () => {
    for (const version of ['2024-11-05', '2025-03-26', '2025-06-18'])
      expect(agentUsesTasks(session(version, { tasks: {} }), { task: {} })).toBe(false);
    expect(agentUsesTasks(session('2025-11-25', { sampling: {} }), undefined)).toBe(false);
    expect(agentUsesTasks(session('2026-07-28', { extensions: {} }), {})).toBe(false);
  });
});
