import { describe, expect, it } from 'vitest';
import { notificationForAgent, requestForAgent, type AgentEra, type RequestPlan } from '../src/era-requests';

const agent = (protocolVersion: string, clientCapabilities: Record<string, unknown> = {}): AgentEra => ({
  protocolVersion,
  clientCapabilities,
});

const urlElicitation = {
  mode: 'url',
  message: 'Pay here',
  url: 'https://pay.example.com/x',
  elicitationId: 'e-9',
};

const formElicitation = {
  mode: 'form',
  message: 'Choose',
  requestedSchema: {
    type: 'object',
    properties: { size: { type: 'string', oneOf: [{ const: 's', title: 'Small' }], default: 's' } },
  },
};

function relayed(plan: RequestPlan) {
  if (plan.kind !== 'relay') throw new Error(`expected a relay, got ${JSON.stringify(plan)}`);
  return plan;
}

describe('requestForAgent: elicitation', () => {
  it('relays URL mode unchanged to a 2025-11-25 agent that declared it', () => {
    const plan = relayed(
      requestForAgent(
        'elicitation/create',
        urlElicitation,
        agent('2025-11-25', { elicitation: { url: {}, form: {} } }),
      ),
    );
    expect(plan.params).toBe(urlElicitation);
    expect(plan.answer).toBeUndefined();
  });

  it('turns URL mode into a form carrying the URL for form-only agents, and maps the answer back', () => {
    for (const a of [
      agent('2025-06-18', { elicitation: {} }),
      agent('2025-11-25', { elicitation: { form: {} } }),
    ]) {
      const plan = relayed(requestForAgent('elicitation/create', urlElicitation, a));
      expect(plan.params).toMatchObject({
        message: expect.stringContaining('https://pay.example.com/x'),
        requestedSchema: { type: 'object', properties: {} },
      });
      expect(plan.params?.['url']).toBeUndefined();
      expect(plan.params?.['mode']).toBe(a.protocolVersion === '2025-11-25' ? 'form' : undefined);
      expect(plan.answer!({ action: 'accept', content: {} })).toEqual({ action: 'accept' });
      expect(plan.answer!({ action: 'decline' })).toEqual({ action: 'decline' });
    }
  });

  it('refuses elicitation to agents whose era or capabilities have none, as such an agent would', () => {
    for (const version of ['2024-11-05', '2025-03-26'])
      expect(
        requestForAgent('elicitation/create', formElicitation, agent(version, { elicitation: {} })),
      ).toEqual({
        kind: 'refuse',
        error: { code: -32601, message: `the client's protocol version ${version} has no elicitation` },
      });
    expect(
      requestForAgent('elicitation/create', formElicitation, agent('2025-06-18', { sampling: {} })),
    ).toMatchObject({
      kind: 'refuse',
      error: { code: -32601 },
    });
    expect(
      requestForAgent(
        'elicitation/create',
        formElicitation,
        agent('2025-11-25', { elicitation: { url: {} } }),
      ),
    ).toMatchObject({
      kind: 'refuse',
      error: { code: -32602, message: 'the client does not support form elicitation' },
    });
  });

  it('converts a 2025-11-25 form for a 2025-06-18 agent (no mode, enumNames) and fills defaults back', () => {
    const plan = relayed(
      requestForAgent('elicitation/create', formElicitation, agent('2025-06-18', { elicitation: {} })),
    );
    expect(plan.params).toEqual({
      message: 'Choose',
      requestedSchema: {
        type: 'object',
        properties: {
          size: {
            type: 'string',
            enum: ['s'],
            enumNames: ['Small'],
            description: 'Default: Small (used when left empty).',
          },
        },
      },
    });
    expect(plan.answer!({ action: 'accept', content: {} })).toEqual({
      action: 'accept',
      content: { size: 's' },
    });
    expect(plan.answer!({ action: 'cancel' })).toEqual({ action: 'cancel' });
  });

  it('relays a form unchanged to a 2025-11-25 agent', () => {
    const plan = relayed(
      requestForAgent('elicitation/create', formElicitation, agent('2025-11-25', { elicitation: {} })),
    );
    expect(plan.params).toBe(formElicitation);
  });
});

describe('requestForAgent: sampling, roots, ping', () => {
  const base = { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 };
  const tools = [{ name: 'search', inputSchema: { type: 'object' } }];

  it('strips tools for an agent without sampling.tools unless they cannot be done without', () => {
    const plan = relayed(
      requestForAgent(
        'sampling/createMessage',
        { ...base, tools, toolChoice: { mode: 'auto' } },
        agent('2025-11-25', { sampling: {} }),
      ),
    );
    expect(plan.params).toEqual(base);
    expect(
      requestForAgent(
        'sampling/createMessage',
        { ...base, tools, toolChoice: { mode: 'required' } },
        agent('2025-11-25', { sampling: {} }),
      ),
    ).toMatchObject({
      kind: 'refuse',
      error: { code: -32602 },
    });
    const withUse = {
      ...base,
      messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'search', input: {} }] }],
    };
    expect(
      requestForAgent('sampling/createMessage', withUse, agent('2025-06-18', { sampling: { tools: {} } }))
        .kind,
    ).toBe('refuse');
    const kept = { ...base, tools };
    expect(
      relayed(
        requestForAgent('sampling/createMessage', kept, agent('2025-11-25', { sampling: { tools: {} } })),
      ).params,
    ).toBe(kept);
  });

  it('splits multi-block messages for agents before 2025-11-25 and keeps audio from 2024-11-05 agents', () => {
    const multi = {
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'image', data: 'AA', mimeType: 'image/png' },
          ],
        },
      ],
    };
    expect(
      relayed(requestForAgent('sampling/createMessage', multi, agent('2025-06-18', { sampling: {} }))).params,
    ).toEqual({
      ...base,
      messages: [
        { role: 'user', content: { type: 'text', text: 'a' } },
        { role: 'user', content: { type: 'image', data: 'AA', mimeType: 'image/png' } },
      ],
    });
    const audio = {
      ...base,
      messages: [{ role: 'user', content: { type: 'audio', data: 'AA', mimeType: 'audio/wav' } }],
    };
    expect(
      requestForAgent('sampling/createMessage', audio, agent('2024-11-05', { sampling: {} })),
    ).toMatchObject({
      kind: 'refuse',
      error: { code: -32602 },
    });
    expect(
      relayed(requestForAgent('sampling/createMessage', audio, agent('2025-03-26', { sampling: {} }))).params,
    ).toBe(audio);
    expect(requestForAgent('sampling/createMessage', base, agent('2025-06-18', {}))).toMatchObject({
      kind: 'refuse',
      error: { code: -32601 },
    });
  });

  it('relays roots/list only to agents that declared roots, ping to everyone, nothing else', () => {
    expect(requestForAgent('roots/list', undefined, agent('2024-11-05', { roots: {} })).kind).toBe('relay');
    expect(requestForAgent('roots/list', undefined, agent('2024-11-05', {})).kind).toBe('refuse');
    expect(requestForAgent('ping', undefined, agent('2024-11-05')).kind).toBe('relay');
    expect(requestForAgent('toString', undefined, agent('2025-11-25'))).toMatchObject({
      kind: 'refuse',
      error: { code: -32601 },
    });
  });
});

describe('notificationForAgent', () => {
  it('drops task status before 2025-11-25 and URL completion where no URL elicitation was possible', () => {
    const status = { taskId: 't', status: 'working' };
    expect(notificationForAgent('notifications/tasks/status', status, agent('2025-06-18'))).toBeNull();
    expect(notificationForAgent('notifications/tasks/status', status, agent('2025-11-25'))).toEqual({
      params: status,
    });
    const done = { elicitationId: 'e' };
    expect(
      notificationForAgent(
        'notifications/elicitation/complete',
        done,
        agent('2025-11-25', { elicitation: { url: {} } }),
      ),
    ).toEqual({
      params: done,
    });
    expect(
      notificationForAgent(
        'notifications/elicitation/complete',
        done,
        agent('2025-11-25', { elicitation: {} }),
      ),
    ).toBeNull();
    expect(
      notificationForAgent(
        'notifications/elicitation/complete',
        done,
        agent('2025-06-18', { elicitation: { url: {} } }),
      ),
    ).toBeNull();
    expect(
      notificationForAgent(
        'notifications/elicitation/complete',
        done,
        agent('2026-07-28', { elicitation: { url: {} } }),
      ),
    ).toBeNull();
  });

  it('trims the progress message for 2024-11-05 and passes everything else', () => {
    const progress = { progressToken: 1, progress: 2, total: 3, message: 'half' };
    expect(notificationForAgent('notifications/progress', progress, agent('2024-11-05'))).toEqual({
      params: { progressToken: 1, progress: 2, total: 3 },
    });
    expect(notificationForAgent('notifications/progress', progress, agent('2025-03-26'))).toEqual({
      params: progress,
    });
    const log = { level: 'info', data: 'x' };
    expect(notificationForAgent('notifications/message', log, agent('2024-11-05'))).toEqual({ params: log });
  });
});
