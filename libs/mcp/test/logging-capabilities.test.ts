import { describe, expect, it } from 'vitest';
import { isLevelEnabled, isLoggingLevel, leastSevere } from '../src/logging';
import { clientCannotAnswer, isRelayedClientMethod } from '../src/capabilities';

describe('isLevelEnabled', () => {
  it('lets messages at or above the session level through', () => {
    expect(isLevelEnabled('error', 'warning')).toBe(true);
    expect(isLevelEnabled('warning', 'warning')).toBe(true);
    expect(isLevelEnabled('info', 'warning')).toBe(false);
    expect(isLevelEnabled('debug', undefined)).toBe(true);
    expect(isLevelEnabled('verbose', 'emergency')).toBe(true);
    expect(isLoggingLevel('notice')).toBe(true);
    expect(isLoggingLevel('warn')).toBe(false);
  });
});

describe('leastSevere', () => {
  it('picks the least severe level that is set', () => {
    expect(leastSevere(['error', undefined, 'info', 'warning'])).toBe('info');
    expect(leastSevere(['emergency'])).toBe('emergency');
    expect(leastSevere([undefined])).toBeUndefined();
  });
});

describe('clientCannotAnswer', () => {
  it('requires the capability each server-to-client request needs', () => {
    expect(clientCannotAnswer('sampling/createMessage', { sampling: {} })).toBeNull();
    expect(clientCannotAnswer('sampling/createMessage', { roots: {} })).toMatch(/sampling capability/);
    expect(clientCannotAnswer('elicitation/create', {})).toMatch(/elicitation/);
    expect(clientCannotAnswer('roots/list', { roots: { listChanged: true } })).toBeNull();
    expect(clientCannotAnswer('ping', {})).toBeNull();
    expect(clientCannotAnswer('toString', {})).toMatch(/does not relay/);
    expect(isRelayedClientMethod('constructor')).toBe(false);
  });

  it('relays an elicitation only in a mode the client declared', () => {
    const url = { mode: 'url', url: 'https://example.com/x', elicitationId: 'e1', message: 'm' };
    const form = { message: 'm', requestedSchema: { type: 'object', properties: {} } };
    expect(clientCannotAnswer('elicitation/create', { elicitation: {} }, form)).toBeNull();
    expect(clientCannotAnswer('elicitation/create', { elicitation: {} }, url)).toMatch(/url elicitation/);
    expect(clientCannotAnswer('elicitation/create', { elicitation: { form: {} } }, url)).toMatch(/url/);
    expect(clientCannotAnswer('elicitation/create', { elicitation: { url: {} } }, url)).toBeNull();
    expect(clientCannotAnswer('elicitation/create', { elicitation: { url: {} } }, form)).toMatch(/form/);
    expect(clientCannotAnswer('elicitation/create', { elicitation: { form: {}, url: {} } }, url)).toBeNull();
  });

  it('relays a sampling request with tools only to a client that declared sampling.tools', () => {
    const withTools = { messages: [], maxTokens: 5, tools: [{ name: 't', inputSchema: { type: 'object' } }] };
    expect(clientCannotAnswer('sampling/createMessage', { sampling: {} }, withTools)).toMatch(/tools/);
    expect(
      clientCannotAnswer(
        'sampling/createMessage',
        { sampling: {} },
        { ...withTools, tools: undefined, toolChoice: { mode: 'auto' } },
      ),
    ).toMatch(/tools/);
    expect(clientCannotAnswer('sampling/createMessage', { sampling: { tools: {} } }, withTools)).toBeNull();
    expect(
      clientCannotAnswer('sampling/createMessage', { sampling: {} }, { messages: [], maxTokens: 5 }),
    ).toBeNull();
  });
});
