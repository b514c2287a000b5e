/**
 * Down-conversion of what an upstream sends an agent on its own (issue 3): server-to-client requests and
 * notifications, for an agent whose protocol version or declared capabilities cannot carry them as sent.
 * A request is relayed as it is, relayed converted (with the mapping of its answer back to what the upstream
 * asked), or refused with the error the agent itself would have answered; a notification is passed, trimmed
 * or dropped. Pure: params are never modified in place.
 */
import { ErrorCodes, type JsonRpcErrorObject } from '@meshgate/contracts';
import { formFor20250618, urlAnswerFromForm, urlElicitationAsForm } from './elicitation-forms';

type Json = Record<string, unknown>;

/** The version each converted feature first appeared in, and the first stateless one. */
const Since = {
  audio: '2025-03-26',
  progressMessage: '2025-03-26',
  elicitation: '2025-06-18',
  urlElicitation: '2025-11-25',
  samplingTools: '2025-11-25',
  tasks: '2025-11-25',
  stateless: '2026-07-28',
} as const;

/** What the gateway knows of the agent a message is for. */
export interface AgentEra {
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
}

/** How a server-to-client request reaches the agent. */
export type RequestPlan =
  /** Relay with these params; `answer` maps the agent's result back to what the upstream asked. */
  | { kind: 'relay'; params: Json | undefined; answer: ((result: Json) => Json) | undefined }
  /** The agent cannot answer it: the upstream gets this error instead. */
  | { kind: 'refuse'; error: JsonRpcErrorObject };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const relay = (params: Json | undefined, answer?: (result: Json) => Json): RequestPlan => ({
  kind: 'relay',
  params,
  answer,
});

const refuse = (code: number, message: string): RequestPlan => ({ kind: 'refuse', error: { code, message } });

/** The elicitation modes a capability declares; an empty object means form only (backwards compatibility). */
function elicitationModes(capability: unknown): string[] {
  if (!isObject(capability)) return [];
  if (Object.keys(capability).length === 0) return ['form'];
  return ['form', 'url'].filter((mode) => capability[mode] !== undefined && capability[mode] !== null);
}

/** An elicitation/create for the agent: URL mode becomes a form for a form-only agent, forms are converted. */
function elicitation(params: Json | undefined, agent: AgentEra): RequestPlan {
  const version = agent.protocolVersion;
  if (version < Since.elicitation)
    return refuse(ErrorCodes.MethodNotFound, `the client's protocol version ${version} has no elicitation`);
  const modes = elicitationModes(agent.clientCapabilities['elicitation']);
  if (modes.length === 0)
    return refuse(ErrorCodes.MethodNotFound, 'the client did not declare the elicitation capability');
  const p = params ?? {};
  const mode = typeof p['mode'] === 'string' ? p['mode'] : 'form';
  const urlMode = version >= Since.urlElicitation && modes.includes('url');
  if (mode === 'url') {
    if (urlMode) return relay(params);
    if (!modes.includes('form'))
      return refuse(ErrorCodes.InvalidParams, 'the client supports neither URL nor form elicitation');
    // A form without fields whose message carries the URL: the human can still open it and say yes or no.
    return relay(urlElicitationAsForm(p, version >= Since.urlElicitation), urlAnswerFromForm);
  }
  if (mode !== 'form') return refuse(ErrorCodes.InvalidParams, `unknown elicitation mode: ${mode}`);
  if (!modes.includes('form'))
    return refuse(ErrorCodes.InvalidParams, 'the client does not support form elicitation');
  if (version >= Since.urlElicitation) return relay(params);
  // A 2025-06-18 agent: no `mode`, no SEP-1330 enum shapes, no SEP-1034 defaults.
  const form = formFor20250618(p['requestedSchema']);
  const rest = Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'mode'));
  const converted = { ...rest, requestedSchema: form.requestedSchema };
  const mapContent = form.content;
  if (!mapContent) return relay(converted);
  return relay(converted, (result) =>
    result['action'] === 'accept' && isObject(result['content'])
      ? { ...result, content: mapContent(result['content']) }
      : result,
  );
}

/** The content blocks of one sampling message (a single block, or a list since 2025-11-25). */
function blocksOf(message: Json): unknown[] {
  const content = message['content'];
  return Array.isArray(content) ? content : [content];
}

function blockType(block: unknown): unknown {
  return isObject(block) ? block['type'] : undefined;
}

/**
 * A sampling/createMessage for the agent. Tools are stripped for an agent without sampling.tools unless the
 * request cannot mean the same without them (a required tool choice, or tool calls among the messages); a
 * message with several content blocks becomes one message per block before 2025-11-25; audio cannot reach a
 * 2024-11-05 agent.
 */
function sampling(params: Json | undefined, agent: AgentEra): RequestPlan {
  const capability = agent.clientCapabilities['sampling'];
  if (capability === undefined || capability === null)
    return refuse(ErrorCodes.MethodNotFound, 'the client did not declare the sampling capability');
  const p = params ?? {};
  const version = agent.protocolVersion;
  const messages = Array.isArray(p['messages']) ? (p['messages'] as unknown[]) : [];
  const blocks = messages.flatMap((m) => (isObject(m) ? blocksOf(m) : []));
  const withTools = version >= Since.samplingTools && isObject(capability) && isObject(capability['tools']);
  let out = p;
  if (!withTools) {
    if (blocks.some((b) => blockType(b) === 'tool_use' || blockType(b) === 'tool_result'))
      return refuse(ErrorCodes.InvalidParams, 'the client did not declare sampling with tools');
    const choice = p['toolChoice'];
    if (isObject(choice) && choice['mode'] === 'required')
      return refuse(ErrorCodes.InvalidParams, 'the client did not declare sampling with tools');
    if ('tools' in p || 'toolChoice' in p)
      out = Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'tools' && k !== 'toolChoice'));
  }
  if (version < Since.audio && blocks.some((b) => blockType(b) === 'audio'))
    return refuse(ErrorCodes.InvalidParams, `the client's protocol version ${version} cannot read audio`);
  if (version < Since.samplingTools && messages.some((m) => isObject(m) && Array.isArray(m['content']))) {
    const split = messages.flatMap((m) =>
      isObject(m) && Array.isArray(m['content'])
        ? m['content'].map((block: unknown) => ({ ...m, content: block }))
        : [m],
    );
    out = { ...out, messages: split };
  }
  return relay(out === p ? params : out);
}

/**
 * How a server-to-client request of `method` reaches an agent of `agent`'s era: relayed unchanged when the
 * agent can read it, converted where its era or capabilities need, refused with the error the agent itself
 * would answer (-32601 without the capability, -32602 for a part of it the agent cannot take).
 */
export function requestForAgent(method: string, params: Json | undefined, agent: AgentEra): RequestPlan {
  switch (method) {
    case 'ping':
      return relay(params);
    case 'roots/list':
      return agent.clientCapabilities['roots'] === undefined || agent.clientCapabilities['roots'] === null
        ? refuse(ErrorCodes.MethodNotFound, 'the client did not declare the roots capability')
        : relay(params);
    case 'elicitation/create':
      return elicitation(params, agent);
    case 'sampling/createMessage':
      return sampling(params, agent);
    default:
      return refuse(ErrorCodes.MethodNotFound, `the gateway does not relay ${method}`);
  }
}

/**
 * A notification of `method` for an agent of `agent`'s era: its params (trimmed where the era needs), or
 * null when the agent cannot read it at all (a task status before 2025-11-25; the completion of a URL
 * elicitation to an agent that never saw one; progress keeps no `message` for 2024-11-05).
 */
export function notificationForAgent(
  method: string,
  params: Json | undefined,
  agent: AgentEra,
): { params: Json | undefined } | null {
  const version = agent.protocolVersion;
  switch (method) {
    case 'notifications/tasks/status':
      return version < Since.tasks ? null : { params };
    case 'notifications/elicitation/complete': {
      const url =
        version >= Since.urlElicitation &&
        version < Since.stateless &&
        elicitationModes(agent.clientCapabilities['elicitation']).includes('url');
      return url ? { params } : null;
    }
    case 'notifications/progress':
      if (version >= Since.progressMessage || params === undefined || !('message' in params))
        return { params };
      return { params: Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'message')) };
    default:
      return { params };
  }
}
