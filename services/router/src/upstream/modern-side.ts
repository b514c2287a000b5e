/**
 * What one connection does differently while its upstream is modern (2026-07-28): every request and
 * notification gets the `_meta` envelope (the call's agent capabilities the gateway can relay, the gateway
 * as client, the connection's log level); ping and logging/setLevel are answered by the gateway and
 * resource subscriptions ride the listen stream (listen-stream); answers are given in each agent's era,
 * with the input rounds of session-era agents asked through input-asks (modern-answers).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@meshgate/config';
import {
  ErrorCodes,
  type JsonRpcErrorObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from '@meshgate/contracts';
import { upstreamCapabilities, withUpstreamEnvelope } from '@meshgate/mcp';
import type { Attribution } from './attribution';
import { InputAsks } from './input-asks';
import { ListenStream } from './listen-stream';
import { modernAnswer, type AgentView } from './modern-answers';
import type { CallOrigin, Outcome } from './relay-table';
import type { UpstreamTransport } from './transport';

type Params = Record<string, unknown>;

/** What the modern side of a connection works with. */
export interface ModernSideDeps {
  /** The gateway version sent as clientInfo.version. */
  version: string;
  log: Logger;
  /** The log level set for the connection. */
  logLevel(): string | undefined;
  agentOf(sessionId: string): AgentView | undefined;
  /** One request upstream, as the connection relays it (audited, through the gate). */
  send(method: string, params: Params | undefined, origin: CallOrigin, timeoutMs: number): Promise<Outcome>;
  /** Hands a server-to-client request of the agent's input to the router, as an upstream's one would be. */
  serverRequest(request: JsonRpcRequest, attribution: Attribution): void;
  /** Hands a notification to the router, as an upstream's one would be. */
  notification(notification: JsonRpcNotification, attribution: Attribution): void;
}

/** The modern side of one connection. */
export class ModernSide {
  /** The client input asked of agents for the upstream's calls. */
  readonly asks: InputAsks;
  private listen: ListenStream | undefined;

  constructor(private readonly deps: ModernSideDeps) {
    this.asks = new InputAsks({
      send: (request, origin) => deps.serverRequest(request, { kind: 'call', origin }),
      withdraw: (id, reason) =>
        deps.notification(
          { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } },
          { kind: 'none' },
        ),
    });
  }

  /**
   * `params` with the envelope: the capabilities of the call's agent the gateway can relay (nothing for an
   * agent it does not know; the gateway's own for its own requests), the gateway, the log level.
   */
  envelope(params: Params | undefined, origin: CallOrigin | undefined): Params {
    const capabilities =
      origin === undefined ? undefined : (this.deps.agentOf(origin.sessionId)?.clientCapabilities ?? {});
    return withUpstreamEnvelope(params, {
      clientCapabilities: upstreamCapabilities(capabilities),
      clientInfo: { name: 'meshgate', version: this.deps.version },
      logLevel: this.deps.logLevel(),
    });
  }

  /**
   * The gateway's own answer to a request the upstream has no method for: ping (gone in 2026-07-28),
   * logging/setLevel (the level travels in every envelope instead) and resource subscriptions (carried by
   * the listen stream). Undefined for everything else, which goes upstream.
   */
  localAnswer(method: string, params: Params | undefined, timeoutMs: number): Promise<Outcome> | undefined {
    switch (method) {
      case 'ping':
      case 'logging/setLevel':
        return Promise.resolve({ result: {} });
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = params?.['uri'];
        if (typeof uri !== 'string')
          return Promise.resolve(failure(ErrorCodes.InvalidParams, `${method}: uri missing`));
        if (!this.listen)
          return Promise.resolve(failure(ErrorCodes.UpstreamUnavailable, 'the upstream is not listening'));
        return method === 'resources/subscribe'
          ? this.listen.subscribe(uri, timeoutMs)
          : this.listen.unsubscribe(uri, timeoutMs);
      }
      default:
        return undefined;
    }
  }

  /** The answer to an agent's call, `first` being the upstream's, in the agent's era. */
  answer(method: string, params: Params | undefined, origin: CallOrigin, first: Outcome, deadline: number) {
    return modernAnswer(
      method,
      params,
      first,
      this.deps.agentOf(origin.sessionId),
      {
        retry: (retried, ms) => this.deps.send(method, retried, origin, ms),
        ask: (asked, askParams, ms) => this.asks.ask(asked, askParams, origin, ms),
        elicitationId: () => `mg-elicitation-${randomUUID()}`,
      },
      deadline,
    );
  }

  /** The connection is up on `transport`: listens to the changes the upstream offers and to `uris`. */
  up(transport: UpstreamTransport, stdio: boolean, capabilities: unknown, uris: readonly string[]): void {
    this.listen = new ListenStream(
      {
        send: (message, signal) => transport.send(message, signal),
        envelope: (params) => this.envelope(params, undefined),
        stdio,
        log: this.deps.log,
      },
      typeof capabilities === 'object' && capabilities !== null ? (capabilities as Params) : {},
    );
    this.listen.start(uris);
  }

  /** Takes a message of the listen stream's own (see ListenStream.consume); true when it must go no further. */
  consume(raw: unknown): boolean {
    return (
      this.listen !== undefined &&
      typeof raw === 'object' &&
      raw !== null &&
      this.listen.consume(raw as Params)
    );
  }

  /** The connection went down: the listen ends and input asked for its calls is no longer awaited. */
  down(error: JsonRpcErrorObject): void {
    this.listen?.stop(error.message);
    this.listen = undefined;
    this.asks.failAll({ error });
  }
}

function failure(code: number, message: string): Outcome {
  return { error: { code, message } };
}
