import { describe, expect, it } from 'vitest';
import { isLevelEnabled, isLoggingLevel } from '../src/logging';
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
});
