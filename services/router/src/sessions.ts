/**
 * The sessions this router replica knows: learned from the calls it serves, forgotten when the session
 * ends or, since an agent may vanish without DELETE, when no call has reached it for the idle limit. Holds what the replica keeps per session in memory only (ADR 001): the session's info and log level.
 */
import type { SessionInfo } from '@meshgate/contracts';
import type { LoggingLevel } from '@meshgate/mcp';

/** What the replica keeps of one session. */
export interface SessionState {
  info: SessionInfo;
  /** The level the agent set with logging/setLevel; messages below it are not relayed. */
  level: LoggingLevel | undefined;
  /** When a call of this session last reached this replica (epoch ms). */
  lastSeen: number;
}

/** True when `a` and `b` are equal in every field (roles and groups in the same order). */
function equalPrincipals(a: SessionInfo['principal'], b: SessionInfo['principal']): boolean {
  return (
    a.tenant === b.tenant &&
    a.id === b.id &&
    a.kind === b.kind &&
    sameList(a.roles, b.roles) &&
    sameList(a.groups, b.groups)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** The sessions known to this replica, by id. */
export class Sessions {
  private readonly byId = new Map<string, SessionState>();

  /**
   * Records (or refreshes) a session from the info a call carries. A principal equal to the one known keeps
   * the known object (`info.principal` is replaced by it), so that what is worked out per principal object
   * (the policy engine's share of a decision key) is worked out once per session.
   */
  remember(info: SessionInfo, now = Date.now()): SessionState {
    const known = this.byId.get(info.id);
    if (known) {
      if (info.principal !== known.info.principal && equalPrincipals(info.principal, known.info.principal))
        info.principal = known.info.principal;
      known.info = info;
      known.lastSeen = now;
      return known;
    }
    const state: SessionState = { info, level: undefined, lastSeen: now };
    this.byId.set(info.id, state);
    return state;
  }

  get(id: string): SessionState | undefined {
    return this.byId.get(id);
  }

  forget(id: string): boolean {
    return this.byId.delete(id);
  }

  /** Ids of the sessions no call has reached since `cutoff` (epoch ms). */
  idleSince(cutoff: number): string[] {
    return [...this.byId.values()].filter((s) => s.lastSeen < cutoff).map((s) => s.info.id);
  }

  /** The sessions that reach `server`: every federated session and those of its own endpoint. */
  using(server: string): SessionState[] {
    return [...this.byId.values()].filter((s) => reaches(s.info, server));
  }
}

/** True when a session's target includes `server`. */
export function reaches(info: SessionInfo, server: string): boolean {
  return info.target.kind === 'federated' || info.target.server === server;
}
