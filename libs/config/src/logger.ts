/** Structured JSON logs (pino) with secrets redacted by path. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, level: string, instance?: string): Logger {
  return pino({
    level,
    base: { service, ...(instance ? { instance } : {}) },
    redact: {
      paths: ['*.authorization', '*.Authorization', '*.headers.authorization', '*.env', '*.apiKey', '*.token'],
      censor: '[redacted]',
    },
  });
}
