/**
 * Down-conversion of results for agents of an older protocol era (issue 3): an upstream may answer in a
 * newer version than the agent negotiated, and the agent must see a correct conversation in its own
 * version. What the agent's version cannot express is converted where it carries information the agent
 * could show (structured output without a text block becomes text, a resource link becomes text, audio
 * becomes an embedded resource), and dropped where it only decorates (titles, icons, annotations, output
 * schemas, task support). Pure: the result is returned as it is when nothing needs converting, and never
 * modified in place.
 */
import type { ProtocolVersion } from './versions';

type Json = Record<string, unknown>;

/** The version each converted feature first appeared in. */
const Since = {
  annotations: '2025-03-26',
  audio: '2025-03-26',
  completions: '2025-03-26',
  structured: '2025-06-18',
  resourceLink: '2025-06-18',
  title: '2025-06-18',
  icons: '2025-11-25',
  tasks: '2025-11-25',
} as const satisfies Record<string, ProtocolVersion>;

/** The URI of an audio block converted to an embedded resource (the bytes have no URI of their own). */
export const AudioUri = 'urn:meshgate:content:audio';

/** The newest version whose results need no conversion for an agent: every session version reads them. */
const Newest = '2025-11-25';

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `obj` without `keys` (the same object when it has none of them). */
function without(obj: Json, keys: readonly string[]): Json {
  if (!keys.some((k) => k in obj)) return obj;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

/** The keys of a listed item (tool, prompt, resource, template, argument) an agent of `version` cannot read. */
function unreadableKeys(version: string, kind: 'tool' | 'item'): string[] {
  const keys: string[] = [];
  if (version < Since.title) keys.push('title');
  if (version < Since.icons) keys.push('icons');
  if (kind === 'tool') {
    if (version < Since.annotations) keys.push('annotations');
    if (version < Since.structured) keys.push('outputSchema');
    if (version < Since.tasks) keys.push('execution');
  }
  return keys;
}

/**
 * One listed item for an agent of `version`: fields it cannot read dropped; a title the agent would lose
 * becomes the description when the item has none, so a human-readable name is not lost.
 */
function listedItem(item: unknown, version: string, kind: 'tool' | 'item'): unknown {
  if (!isObject(item)) return item;
  let out = without(item, unreadableKeys(version, kind));
  if (
    out !== item &&
    version < Since.title &&
    typeof item['title'] === 'string' &&
    out['description'] === undefined
  )
    out = { ...out, description: item['title'] };
  if (kind === 'item' && Array.isArray(out['arguments'])) {
    const args = out['arguments'] as unknown[];
    const converted = args.map((a) => listedItem(a, version, 'item'));
    if (converted.some((a, i) => a !== args[i])) out = { ...out, arguments: converted };
  }
  return out;
}

/** A list result's items (`key`) converted one by one; the same result when none changed. */
function listResult(result: Json, key: string, version: string, kind: 'tool' | 'item'): Json {
  const items = result[key];
  if (!Array.isArray(items)) return result;
  const converted = items.map((item) => listedItem(item, version, kind));
  return converted.some((item, i) => item !== items[i]) ? { ...result, [key]: converted } : result;
}

/** One content block for an agent of `version`: a resource link as text, audio as an embedded resource. */
function contentBlock(block: unknown, version: string): unknown {
  if (!isObject(block)) return block;
  if (block['type'] === 'resource_link' && version < Since.resourceLink) {
    const name = typeof block['title'] === 'string' ? block['title'] : block['name'];
    const parts = [`Resource: ${String(name ?? block['uri'])} <${String(block['uri'])}>`];
    if (typeof block['mimeType'] === 'string') parts.push(`(${block['mimeType']})`);
    if (typeof block['description'] === 'string') parts.push(`- ${block['description']}`);
    return { type: 'text', text: parts.join(' ') };
  }
  if (block['type'] === 'audio' && version < Since.audio) {
    const mimeType = typeof block['mimeType'] === 'string' ? block['mimeType'] : 'application/octet-stream';
    // 2024-11-05 has no audio block; an embedded binary resource carries the same bytes and type.
    return { type: 'resource', resource: { uri: AudioUri, mimeType, blob: block['data'] } };
  }
  return block;
}

/** A list of content blocks converted; the same array when none changed. */
function contentList(blocks: unknown[], version: string): unknown[] {
  const converted = blocks.map((b) => contentBlock(b, version));
  return converted.some((b, i) => b !== blocks[i]) ? converted : blocks;
}

/** A CallToolResult: content converted; structured output becomes text when the upstream sent none. */
function toolResult(result: Json, version: string): Json {
  const content = Array.isArray(result['content']) ? (result['content'] as unknown[]) : [];
  let blocks = contentList(content, version);
  let out = result;
  if (version < Since.structured && 'structuredContent' in result) {
    const structured = result['structuredContent'];
    const hasText = blocks.some((b) => isObject(b) && b['type'] === 'text');
    // The spec asks servers to send the same data as text too; when one did not, the agent gets it as text.
    if (!hasText && structured !== undefined)
      blocks = [...blocks, { type: 'text', text: JSON.stringify(structured) }];
    out = without(out, ['structuredContent']);
  }
  return blocks === content ? out : { ...out, content: blocks };
}

/** A GetPromptResult: each message's content converted. */
function promptResult(result: Json, version: string): Json {
  const messages = result['messages'];
  if (!Array.isArray(messages)) return result;
  const converted = messages.map((m) => {
    if (!isObject(m)) return m;
    const block = contentBlock(m['content'], version);
    return block === m['content'] ? m : { ...m, content: block };
  });
  return converted.some((m, i) => m !== messages[i]) ? { ...result, messages: converted } : result;
}

/** An InitializeResult: serverInfo and capabilities the agent's version cannot read dropped. */
function initializeResult(result: Json, version: string): Json {
  let out = result;
  const info = result['serverInfo'];
  if (isObject(info)) {
    const drop = [
      ...(version < Since.title ? ['title'] : []),
      ...(version < Since.icons ? ['icons', 'websiteUrl', 'description'] : []),
    ];
    const kept = without(info, drop);
    if (kept !== info) out = { ...out, serverInfo: kept };
  }
  const caps = result['capabilities'];
  if (isObject(caps)) {
    const drop = [
      ...(version < Since.completions ? ['completions'] : []),
      ...(version < Since.tasks ? ['tasks'] : []),
    ];
    const kept = without(caps, drop);
    if (kept !== caps) out = { ...out, capabilities: kept };
  }
  return out;
}

/**
 * The result of `method` as an agent that negotiated `agentVersion` can read it. Agents of the newest
 * session era get it untouched; so does any method whose results no era changed.
 */
export function resultForAgent(method: string, result: Json, agentVersion: string): Json {
  if (agentVersion >= Newest) return result;
  switch (method) {
    case 'initialize':
      return initializeResult(result, agentVersion);
    case 'tools/list':
      return listResult(result, 'tools', agentVersion, 'tool');
    case 'prompts/list':
      return listResult(result, 'prompts', agentVersion, 'item');
    case 'resources/list':
      return listResult(result, 'resources', agentVersion, 'item');
    case 'resources/templates/list':
      return listResult(result, 'resourceTemplates', agentVersion, 'item');
    case 'tools/call':
      return toolResult(result, agentVersion);
    case 'prompts/get':
      return promptResult(result, agentVersion);
    default:
      return result;
  }
}
