// Pure rules of the HTTP edge: Origin and Host checks, MCP-Protocol-Version, Accept and Content-Type.
import { describe, expect, it } from 'vitest';
import { hostAllowed, originAllowed, splitHost } from '../src/origin-check';
import {
  acceptsJsonAndSse,
  acceptsSse,
  checkVersionHeader,
  isJsonContentType,
  supportsPriming,
} from '../src/protocol';

describe('originAllowed', () => {
  it('allows requests without Origin and loopback origins on any port', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    for (const o of [
      'http://localhost',
      'http://localhost:3000',
      'https://127.0.0.1:8443',
      'http://[::1]:6274',
    ])
      expect(originAllowed(o, []), o).toBe(true);
  });
  it('refuses foreign, opaque and look-alike origins unless listed', () => {
    for (const o of [
      'https://evil.example',
      'null',
      'http://localhost.evil.example',
      'file://localhost',
      'http://127.0.0.2',
    ])
      expect(originAllowed(o, []), o).toBe(false);
    expect(originAllowed('https://app.example.com', ['https://app.example.com'])).toBe(true);
    expect(originAllowed('HTTPS://APP.example.com/', ['https://app.example.com'])).toBe(true);
    expect(originAllowed('https://app.example.com:444', ['https://app.example.com'])).toBe(false);
  });
});

describe('hostAllowed', () => {
  it('allows loopback hosts and listed names, with or without port', () => {
    expect(hostAllowed('localhost:8080', [], false)).toBe(true);
    expect(hostAllowed('127.0.0.1', [], false)).toBe(true);
    expect(hostAllowed('[::1]:80', [], false)).toBe(true);
    expect(hostAllowed('gw.example.com', ['gw.example.com'], false)).toBe(true);
    expect(hostAllowed('gw.example.com:8443', ['gw.example.com'], false)).toBe(true);
    expect(hostAllowed('gw.example.com:8443', ['gw.example.com:443'], false)).toBe(false);
  });
  it('refuses rebinding names, missing and malformed hosts; `*` turns the check off', () => {
    expect(hostAllowed('evil.example', [], false)).toBe(false);
    expect(hostAllowed(undefined, [], false)).toBe(false);
    expect(hostAllowed('local host', [], false)).toBe(false);
    expect(hostAllowed('evil.example', [], true)).toBe(true);
    expect(splitHost('a:b:c')).toBeNull();
  });
});

describe('checkVersionHeader', () => {
  it('refuses unsupported versions, also on initialize', () => {
    expect(checkVersionHeader('1999-01-01', undefined).ok).toBe(false);
    expect(checkVersionHeader('2025-06-18', undefined).ok).toBe(true);
    expect(checkVersionHeader(undefined, undefined).ok).toBe(true);
  });
  it('reads an absent header as 2025-03-26 and requires a match with the session', () => {
    expect(checkVersionHeader(undefined, '2025-03-26').ok).toBe(true);
    expect(checkVersionHeader(undefined, '2024-11-05').ok).toBe(true);
    expect(checkVersionHeader(undefined, '2025-06-18').ok).toBe(false);
    expect(checkVersionHeader('2025-11-25', '2025-11-25').ok).toBe(true);
    expect(checkVersionHeader('2025-06-18', '2025-11-25').ok).toBe(false);
    // The router negotiates 2024-11-05 when asked; SDK clients then send it in the header.
    expect(checkVersionHeader('2024-11-05', '2024-11-05').ok).toBe(true);
    expect(checkVersionHeader('2024-11-05', '2025-03-26').ok).toBe(false);
  });
  it('sends priming events only to 2025-11-25 sessions and later', () => {
    expect(supportsPriming('2025-11-25')).toBe(true);
    expect(supportsPriming('2025-06-18')).toBe(false);
  });
});

describe('media types', () => {
  it('POST needs both JSON and SSE acceptable, wildcards included, q=0 excluded', () => {
    expect(acceptsJsonAndSse('application/json, text/event-stream')).toBe(true);
    expect(acceptsJsonAndSse('text/event-stream;q=0.9, application/json')).toBe(true);
    expect(acceptsJsonAndSse('*/*')).toBe(true);
    expect(acceptsJsonAndSse('application/json')).toBe(false);
    expect(acceptsJsonAndSse('application/json, text/event-stream;q=0')).toBe(false);
    expect(acceptsJsonAndSse(undefined)).toBe(false);
  });
  it('GET needs SSE acceptable; content type must be JSON', () => {
    expect(acceptsSse('text/event-stream')).toBe(true);
    expect(acceptsSse('application/json')).toBe(false);
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});
