/**
 * Who a per-principal upstream connection acts for. Servers whose credentials depend on the principal
 * (`token-exchange`, `principal-token`) get one connection per session, like `stateful` servers, so one
 * upstream connection never carries two principals' tokens. The pool keeps, per session, the principal and
 * the agent's subject token of its latest call (the agent may refresh its JWT during a session); a
 * connection reads them live through its `UpstreamCaller`. Subject tokens stay in memory, are never logged,
 * and are forgotten with the session.
 */
import type { Principal, ServerDefinition, SessionInfo } from '@meshgate/contracts';
import type { PrincipalTokenSource } from './principal-tokens';

/** The caller of a per-session connection, read live. */
export interface UpstreamCaller {
  /** The session's principal; undefined once the session is forgotten. */
  principal(): Principal | undefined;
  /** The agent's JWT of the session's latest call; undefined for a principal authenticated otherwise. */
  subjectToken(): string | undefined;
  /** Where principals' stored upstream tokens are read; undefined when this replica has none. */
  readonly principalTokens: PrincipalTokenSource | undefined;
}

/** True when a definition's credentials depend on the principal: its connections are per session. */
export function actsForPrincipal(def: ServerDefinition): boolean {
  if (def.transport === 'stdio') return false;
  return def.auth?.type === 'token-exchange' || def.auth?.type === 'principal-token';
}

interface Known {
  principal: Principal;
  subjectToken: string | undefined;
}

/** The callers of the sessions one replica serves. */
export class SessionCallers {
  private readonly bySession = new Map<string, Known>();

  constructor(private readonly principalTokens: PrincipalTokenSource | undefined = undefined) {}

  /** Records the principal and subject token of a call of `session` (every call, before it is routed). */
  remember(session: SessionInfo, subjectToken: string | undefined): void {
    this.bySession.set(session.id, { principal: session.principal, subjectToken });
  }

  /** The live caller of `sessionId`. */
  of(sessionId: string): UpstreamCaller {
    return {
      principal: () => this.bySession.get(sessionId)?.principal,
      subjectToken: () => this.bySession.get(sessionId)?.subjectToken,
      principalTokens: this.principalTokens,
    };
  }

  forget(sessionId: string): void {
    this.bySession.delete(sessionId);
  }

  clear(): void {
    this.bySession.clear();
  }
}
