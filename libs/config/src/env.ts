/**
 * Configuration as a pure function of the environment: each service declares a zod schema of the
 * variables it reads, and gets a typed object or one error that lists every bad variable by name.
 */
import { z } from 'zod';
import { randomBytes } from 'node:crypto';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses `env` with `schema`; the error names each offending variable and why. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** A replica id: unique per process, safe as a NATS subject token. */
export function newInstanceId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Variables every service reads. */
export const CommonEnv = {
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  LOG_LEVEL: LogLevel.default('info'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
};

/** Reads a boolean variable: "1/true/yes/on" or "0/false/no/off". */
export const BoolFromEnv = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
