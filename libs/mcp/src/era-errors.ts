/**
 * Error codes between eras (issue 3). The same failure is spelt differently in different versions: a
 * resource that does not exist is -32002 up to 2025-11-25 and -32602 with `data: {uri}` from 2026-07-28;
 * "URL elicitation required" (-32042) exists only from 2025-11-25 to 2026-07-28 and only for agents that
 * declared URL elicitation; -32020, -32021 and -32022 are 2026-07-28 codes about the request's own headers,
 * capabilities and version. An upstream's error is answered in the agent's spelling; codes about the
 * gateway's own request upstream never reach the agent as if they were about the agent's. Pure.
 */
import { ErrorCodes, type JsonRpcErrorObject } from '@meshgate/contracts';
import type { AgentEra } from './era-requests';

type Json = Record<string, unknown>;

/** The 2026-07-28 error codes. */
export const ModernErrorCodes = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

const Stateless = '2026-07-28';
const UrlElicitation = '2025-11-25';

const ResourceMethods = ['resources/read', 'resources/subscribe', 'resources/unsubscribe'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when an agent of this era may be sent -32042 (it declared URL elicitation in a version that has it). */
function readsUrlElicitationError(agent: AgentEra): boolean {
  const v = agent.protocolVersion;
  const capability = agent.clientCapabilities['elicitation'];
  return v >= UrlElicitation && v < Stateless && isObject(capability) && isObject(capability['url']);
}

/** The URLs (with their messages) of a -32042 error's `data.elicitations`. */
function elicitationLinks(data: unknown): string[] {
  const list = isObject(data) && Array.isArray(data['elicitations']) ? data['elicitations'] : [];
  return list.flatMap((e: unknown) => {
    if (!isObject(e) || typeof e['url'] !== 'string') return [];
    const why =
      typeof e['message'] === 'string' && e['message'].trim() !== '' ? ` (${e['message'].trim()})` : '';
    return [`${e['url']}${why}`];
  });
}

/**
 * The error `error` of an upstream, answering `method` with `params` (as the agent sent them), in the
 * spelling of the agent's era. The same object when nothing changes.
 */
export function errorForAgent(
  method: string,
  params: Json | undefined,
  error: JsonRpcErrorObject,
  agent: AgentEra,
): JsonRpcErrorObject {
  const modern = agent.protocolVersion >= Stateless;
  const uri = typeof params?.['uri'] === 'string' ? params['uri'] : undefined;
  if (ResourceMethods.includes(method)) {
    if (modern && error.code === ErrorCodes.ResourceNotFound)
      return { ...error, code: ErrorCodes.InvalidParams, data: uri === undefined ? error.data : { uri } };
    // A -32602 whose data is exactly {uri} is the 2026-07-28 resource-not-found.
    const data = error.data;
    if (
      !modern &&
      error.code === ErrorCodes.InvalidParams &&
      isObject(data) &&
      typeof data['uri'] === 'string' &&
      Object.keys(data).length === 1
    )
      return { ...error, code: ErrorCodes.ResourceNotFound, data: uri === undefined ? data : { uri } };
  }
  if (error.code === ErrorCodes.UrlElicitationRequired && !readsUrlElicitationError(agent)) {
    const links = elicitationLinks(error.data);
    const open = links.length > 0 ? `; open ${links.join(', ')} and try again` : '';
    return { code: ErrorCodes.InternalError, message: `${error.message}${open}` };
  }
  if (
    error.code === ModernErrorCodes.HeaderMismatch ||
    error.code === ModernErrorCodes.UnsupportedProtocolVersion ||
    (!modern && error.code === ModernErrorCodes.MissingRequiredClientCapability)
  )
    // About the gateway's own request upstream, not the agent's: the agent must not take it for its own.
    return {
      code: ErrorCodes.InternalError,
      message: `the upstream refused the gateway's request: ${error.message}`,
    };
  return error;
}
