/**
 * The router's reader of stored principal tokens with a scripted store and clock: reads reused (found and
 * missing alike) for the cache lifetime, `forget` forcing a new read, a failed open retried on the next
 * read, and store errors turned into credential errors naming the principal and server, never a token.
 */
import { describe, expect, it } from 'vitest';
import { CachedPrincipalTokens, type TokenReader } from '../../src/upstream/principal-tokens';
import { CredentialError } from '../../src/upstream/secret-values';

const ada = { tenant: 'acme', principal: 'ada' };

function scripted(answer: (n: number) => string | null | Error) {
  const clock = { now: 1_000 };
  let reads = 0;
  let opens = 0;
  const reader: TokenReader = {
    get: () => {
      const a = answer(++reads);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
  const tokens = new CachedPrincipalTokens(
    () => (++opens === 1 ? Promise.reject(new Error('key not set')) : Promise.resolve(reader)),
    10_000,
    () => clock.now,
  );
  return { tokens, clock, reads: () => reads, opens: () => opens };
}

describe('CachedPrincipalTokens', () => {
  it('reuses a read for its lifetime, reads again after it or after forget', async () => {
    const { tokens, clock, reads, opens } = scripted((n) => (n === 1 ? null : `t${n}`));
    await expect(tokens.token(ada, 'github')).rejects.toThrow(
      /upstream token of acme\/ada on github: key not set/,
    );
    expect(await tokens.token(ada, 'github')).toBeUndefined();
    expect(opens()).toBe(2);
    clock.now += 9_999;
    expect(await tokens.token(ada, 'github')).toBeUndefined();
    clock.now += 1;
    expect(await tokens.token(ada, 'github')).toBe('t2');
    tokens.forget(ada, 'github');
    expect(await tokens.token(ada, 'github')).toBe('t3');
    expect(await tokens.token(ada, 'github')).toBe('t3');
    expect(reads()).toBe(3);
  });

  it('reports a store error as a credential error without a token value', async () => {
    const { tokens } = scripted(() => new Error('the value does not authenticate'));
    await tokens.token(ada, 'x').catch(() => undefined);
    const err = await tokens.token(ada, 'github').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(String(err)).toMatch(/acme\/ada on github: the value does not authenticate/);
  });
});
