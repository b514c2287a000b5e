/**
 * Resolution of the secrets in a server definition (`SecretValue`): a literal, a variable of the router's
 * environment, or a file (read whole, trimmed; for mounted secrets such as Kubernetes or Docker secrets).
 * Resolved at every (re)connect, so a rotated file is picked up by the next connection. Errors name the
 * reference (variable or path) and where it is used, never a value.
 */
import { readFile, stat } from 'node:fs/promises';
import type { SecretValue } from '@meshgate/contracts';

/** Largest secret file read. */
export const MaxSecretFileBytes = 64 * 1024;

/** A secret could not be resolved; the message names the reference, never a value. */
export class CredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

/** The environment references are resolved against. */
export type SecretEnvironment = Readonly<Record<string, string | undefined>>;

/** The value of one secret; `where` says what it is for (e.g. `header "x-api-key"`). */
export async function resolveSecret(
  value: SecretValue,
  where: string,
  env: SecretEnvironment = process.env,
): Promise<string> {
  if (typeof value === 'string') return value;
  if ('env' in value) {
    const found = env[value.env];
    if (found === undefined || found === '')
      throw new CredentialError(`${where}: environment variable ${value.env} is not set or empty`);
    return found;
  }
  return readSecretFile(value.file, where);
}

/** Resolves every value of a record (header or environment maps); `label` names one entry for errors. */
export async function resolveSecrets(
  values: Readonly<Record<string, SecretValue>>,
  label: (key: string) => string,
  env: SecretEnvironment = process.env,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(values).map(async ([key, value]) => [key, await resolveSecret(value, label(key), env)]),
  );
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Resolves header values and checks they can travel in an HTTP header. */
export async function resolveHeaderSecrets(
  values: Readonly<Record<string, SecretValue>>,
  env: SecretEnvironment = process.env,
): Promise<Record<string, string>> {
  const headers = await resolveSecrets(values, (name) => `header "${name}"`, env);
  for (const [name, value] of Object.entries(headers)) {
    // Tab is allowed; any other control character (CR, LF, NUL...) would split or break the header.
    // eslint-disable-next-line no-control-regex
    if (value === '' || /[\x00-\x08\x0a-\x1f\x7f]/.test(value))
      throw new CredentialError(`header "${name}": the value is empty or holds control characters`);
  }
  return headers;
}

async function readSecretFile(path: string, where: string): Promise<string> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CredentialError(`${where}: secret file ${path} is not a file`);
    if (info.size > MaxSecretFileBytes)
      throw new CredentialError(`${where}: secret file ${path} is larger than ${MaxSecretFileBytes} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof CredentialError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new CredentialError(`${where}: secret file ${path} cannot be read (${code})`);
  }
  const secret = text.trim();
  if (secret === '') throw new CredentialError(`${where}: secret file ${path} is empty`);
  return secret;
}
