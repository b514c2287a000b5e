import { describe, expect, it } from 'vitest';
import { auditRequestId, clip, requestTarget, traceIdOf } from '../src/event-fields';

describe('event fields', () => {
  it('names the target of each method that has one, clipped', () => {
    expect(requestTarget('tools/call', { name: 'search' })).toBe('search');
    expect(requestTarget('prompts/get', { name: 'greet' })).toBe('greet');
    expect(requestTarget('resources/read', { uri: 'file:///a' })).toBe('file:///a');
    expect(requestTarget('completion/complete', { ref: { type: 'ref/resource', uri: 'x://y' } })).toBe(
      'x://y',
    );
    expect(requestTarget('tasks/get', { taskId: 't-1' })).toBe('t-1');
    expect(requestTarget('tools/list', {})).toBeUndefined();
    expect(requestTarget('tools/call', { name: 42 })).toBeUndefined();
    expect(requestTarget('tools/call', { name: 'n'.repeat(5000) })).toHaveLength(1024);
  });

  it('keeps ids and trace ids within the schema bounds', () => {
    expect(auditRequestId(7)).toBe(7);
    expect(auditRequestId('i'.repeat(400))).toHaveLength(256);
    expect(traceIdOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
    expect(clip('abc', 2)).toBe('ab');
  });
});
