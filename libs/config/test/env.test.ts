import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BoolFromEnv, CommonEnv, ConfigError, newInstanceId, parseEnv } from '../src/env';
import { isSubjectToken } from '@meshgate/contracts';

const Schema = z.object({
  ...CommonEnv,
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  FLAG: BoolFromEnv.default(false),
});

describe('parseEnv', () => {
  it('applies defaults and coerces values', () => {
    const cfg = parseEnv(Schema, { PORT: '9000', FLAG: 'yes' });
    expect(cfg).toMatchObject({ PORT: 9000, FLAG: true, NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'info' });
  });

  it('names every bad variable in one error', () => {
    let caught: unknown;
    try {
      parseEnv(Schema, { PORT: '70000', LOG_LEVEL: 'loud', INSTANCE_ID: 'a.b' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const text = (caught as Error).message;
    for (const name of ['PORT', 'LOG_LEVEL', 'INSTANCE_ID']) expect(text).toContain(name);
  });
});

describe('newInstanceId', () => {
  it('is unique and safe as a subject token', () => {
    const a = newInstanceId('router');
    expect(a).toMatch(/^router-[0-9a-f]{12}$/);
    expect(isSubjectToken(a)).toBe(true);
    expect(newInstanceId('router')).not.toBe(a);
  });
});
