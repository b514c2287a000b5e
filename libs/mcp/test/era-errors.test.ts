import { describe, expect, it } from 'vitest';
import { errorForAgent } from '../src/era-errors';

const agent = (protocolVersion: string, clientCapabilities: Record<string, unknown> = {}) => ({
  protocolVersion,
  clientCapabilities,
});

describe('errorForAgent', () => {
  const read = { uri: 'srv+file:///a' };

  it('spells resource-not-found -32602 {uri} for 2026-07-28 agents and -32002 for the others', () => {
    const legacy = { code: -32002, message: 'Resource not found', data: { uri: 'file:///a' } };
    expect(errorForAgent('resources/read', read, legacy, agent('2026-07-28'))).toEqual({
      code: -32602,
      message: 'Resource not found',
      data: { uri: 'srv+file:///a' },
    });
    expect(errorForAgent('resources/read', read, legacy, agent('2025-06-18'))).toBe(legacy);
    const modern = { code: -32602, message: 'Resource not found: file:///a', data: { uri: 'file:///a' } };
    for (const version of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'])
      expect(errorForAgent('resources/read', read, modern, agent(version))).toEqual({
        code: -32002,
        message: 'Resource not found: file:///a',
        data: { uri: 'srv+file:///a' },
      });
    expect(errorForAgent('resources/subscribe', read, modern, agent('2025-11-25')).code).toBe(-32002);
    expect(errorForAgent('resources/read', read, modern, agent('2026-07-28'))).toBe(modern);
  });

  it('leaves other invalid-params errors alone', () => {
    const invalid = { code: -32602, message: 'bad uri', data: { uri: 'x', reason: 'scheme' } };
    expect(errorForAgent('resources/read', read, invalid, agent('2025-06-18'))).toBe(invalid);
    const tool = { code: -32602, message: 'Unknown tool', data: { uri: 'x' } };
    expect(errorForAgent('tools/call', { name: 'x' }, tool, agent('2025-06-18'))).toBe(tool);
  });

  it('turns URL elicitation required into a readable error with the URL for agents that cannot handle it', () => {
    const needed = {
      code: -32042,
      message: 'Authorization required',
      data: {
        elicitations: [
          {
            mode: 'url',
            url: 'https://auth.example.com/x',
            elicitationId: 'e',
            message: 'Connect your account',
          },
        ],
      },
    };
    const readable = {
      code: -32603,
      message: 'Authorization required; open https://auth.example.com/x (Connect your account) and try again',
    };
    expect(errorForAgent('tools/call', {}, needed, agent('2025-06-18', { elicitation: {} }))).toEqual(
      readable,
    );
    expect(
      errorForAgent('tools/call', {}, needed, agent('2025-11-25', { elicitation: { form: {} } })),
    ).toEqual(readable);
    expect(
      errorForAgent('tools/call', {}, needed, agent('2026-07-28', { elicitation: { url: {} } })),
    ).toEqual(readable);
    expect(errorForAgent('tools/call', {}, needed, agent('2025-11-25', { elicitation: { url: {} } }))).toBe(
      needed,
    );
  });

  it("never hands an agent a 2026-07-28 code about the gateway's own upstream request", () => {
    for (const code of [-32020, -32022])
      expect(errorForAgent('tools/call', {}, { code, message: 'no' }, agent('2026-07-28'))).toEqual({
        code: -32603,
        message: "the upstream refused the gateway's request: no",
      });
    const missing = {
      code: -32021,
      message: 'needs sampling',
      data: { requiredCapabilities: { sampling: {} } },
    };
    expect(errorForAgent('tools/call', {}, missing, agent('2026-07-28'))).toBe(missing);
    expect(errorForAgent('tools/call', {}, missing, agent('2025-11-25')).code).toBe(-32603);
  });
});
