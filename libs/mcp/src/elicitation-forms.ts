/**
 * Elicitation forms across eras (issue 3). A 2025-11-25 form may use SEP-1330 enums (titled `oneOf`,
 * multi-select arrays) and SEP-1034 defaults on every field; a 2025-06-18 agent reads neither, so its form
 * says the same in the shapes it knows: a titled enum becomes `enum` + `enumNames`, a multi-select becomes
 * a text field listing its options, a default is written into the description. Its answer is mapped back:
 * the text of a multi-select becomes the array the upstream asked for, and a field left empty gets the
 * default a 2025-11-25 client would have filled in. A URL-mode elicitation for an agent that has form
 * elicitation only becomes a form without fields whose message carries the URL. Pure functions.
 */

type Json = Record<string, unknown>;

/** Maps the `content` of an accepted answer back to what the upstream asked for. */
export type ContentMapping = (content: Json) => Json;

/** An option of an enum: the value sent back and the label a human reads. */
interface EnumOption {
  value: string;
  label: string;
}

/** What the answer to one converted field needs. */
interface FieldRule {
  /** The field was a multi-select: its text answer is split into these options' values. */
  options?: EnumOption[];
  /** The default the agent's form no longer carries, filled in when the field is left empty. */
  fallback?: unknown;
}

/** A form converted for a 2025-06-18 agent, and how its accepted content maps back. */
export interface ConvertedForm {
  requestedSchema: Json;
  /** Undefined when the form needed no conversion. */
  content: ContentMapping | undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function without(obj: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

/** The titled options of a `oneOf`/`anyOf` list (`{const, title}` items), or undefined when it is not one. */
function titledOptions(list: unknown): EnumOption[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const options: EnumOption[] = [];
  for (const item of list) {
    if (!isObject(item) || typeof item['const'] !== 'string') return undefined;
    const title = item['title'];
    options.push({ value: item['const'], label: typeof title === 'string' ? title : item['const'] });
  }
  return options;
}

/** The options of a plain `enum` (with the legacy `enumNames` as labels when present). */
function plainOptions(values: unknown, names: unknown): EnumOption[] | undefined {
  if (!Array.isArray(values) || !values.every((v): v is string => typeof v === 'string')) return undefined;
  const labels = Array.isArray(names) ? names : [];
  return values.map((value, i) => {
    const label = labels[i];
    return { value, label: typeof label === 'string' ? label : value };
  });
}

/** `description` with a sentence appended (the description ended with a full stop when it had none). */
function describe(field: Json, sentence: string): string {
  const before = typeof field['description'] === 'string' ? field['description'].trim() : '';
  if (before === '') return sentence;
  return /[.!?:]$/.test(before) ? `${before} ${sentence}` : `${before}. ${sentence}`;
}

/** How a default reads to a human: the option label for enums, the values joined for lists. */
function defaultText(value: unknown, options: EnumOption[] | undefined): string {
  const label = (v: unknown) =>
    options?.find((o) => o.value === v)?.label ?? (typeof v === 'string' ? v : JSON.stringify(v));
  return Array.isArray(value) ? value.map(label).join(', ') : label(value);
}

/** One property converted, with the rule its answer needs (none when it passes unchanged). */
function convertField(field: unknown): { field: unknown; rule?: FieldRule } {
  if (!isObject(field)) return { field };
  if (field['type'] === 'array' && isObject(field['items'])) {
    const items = field['items'];
    const options = titledOptions(items['anyOf']) ?? plainOptions(items['enum'], undefined);
    if (!options) return { field };
    const limits: string[] = [];
    if (typeof field['minItems'] === 'number') limits.push(`at least ${field['minItems']}`);
    if (typeof field['maxItems'] === 'number') limits.push(`at most ${field['maxItems']}`);
    let sentence = `Choose ${limits.length > 0 ? limits.join(' and ') : 'any'} of: ${options.map((o) => o.label).join(', ')} (separate with commas).`;
    if (field['default'] !== undefined)
      sentence += ` Default: ${defaultText(field['default'], options)} (used when left empty).`;
    const converted: Json = { type: 'string', description: describe(field, sentence) };
    if (typeof field['title'] === 'string') converted['title'] = field['title'];
    return { field: converted, rule: { options, fallback: field['default'] } };
  }
  const titled = field['type'] === 'string' ? titledOptions(field['oneOf']) : undefined;
  if (titled === undefined && field['default'] === undefined) return { field };
  if (field['type'] === 'boolean') return { field };
  let out = without(field, ['default', 'oneOf']);
  if (titled) out = { ...out, enum: titled.map((o) => o.value), enumNames: titled.map((o) => o.label) };
  if (field['default'] !== undefined) {
    const options = titled ?? plainOptions(field['enum'], field['enumNames']);
    out = {
      ...out,
      description: describe(
        field,
        `Default: ${defaultText(field['default'], options)} (used when left empty).`,
      ),
    };
    return { field: out, rule: { fallback: field['default'] } };
  }
  return { field: out };
}

/** The value of a multi-select answered as text: each comma-separated entry matched to an option. */
function splitChoices(answer: string, options: EnumOption[]): string[] {
  const pick = (entry: string) => {
    const lower = entry.toLowerCase();
    return (
      options.find((o) => o.value === entry) ??
      options.find((o) => o.label.toLowerCase() === lower || o.value.toLowerCase() === lower)
    )?.value;
  };
  return answer
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => pick(entry) ?? entry);
}

/** Maps accepted content back field by field. */
function mapContent(rules: Map<string, FieldRule>): ContentMapping {
  return (content) => {
    const out: Json = { ...content };
    for (const [name, rule] of rules) {
      const value = out[name];
      if (rule.options && typeof value === 'string') {
        const choices = splitChoices(value, rule.options);
        if (choices.length > 0) out[name] = choices;
        else delete out[name];
      }
      if ((out[name] === undefined || out[name] === '') && rule.fallback !== undefined)
        out[name] = rule.fallback;
    }
    return out;
  };
}

/**
 * A 2025-11-25 `requestedSchema` as a 2025-06-18 agent can read it (SEP-1330 enums and SEP-1034 defaults
 * converted), with the mapping of its accepted content; the same schema and no mapping when nothing changed.
 */
export function formFor20250618(requestedSchema: unknown): ConvertedForm {
  if (!isObject(requestedSchema) || !isObject(requestedSchema['properties']))
    return { requestedSchema: isObject(requestedSchema) ? requestedSchema : {}, content: undefined };
  const properties = requestedSchema['properties'];
  const converted: Json = {};
  const rules = new Map<string, FieldRule>();
  let changed = false;
  for (const [name, field] of Object.entries(properties)) {
    const out = convertField(field);
    converted[name] = out.field;
    if (out.field !== field) changed = true;
    if (out.rule) rules.set(name, out.rule);
  }
  if (!changed) return { requestedSchema, content: undefined };
  return {
    requestedSchema: { ...requestedSchema, properties: converted },
    content: rules.size > 0 ? mapContent(rules) : undefined,
  };
}

/** The host a URL points to, for the human who must decide whether to open it. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * The params of a form elicitation without fields standing for a URL-mode one: the message tells the human
 * which host to open and gives the URL. `withMode` keeps `mode: "form"` (2025-11-25 agents); older agents
 * get no `mode`.
 */
export function urlElicitationAsForm(params: Json, withMode: boolean): Json {
  const url = typeof params['url'] === 'string' ? params['url'] : '';
  const host = hostOf(url);
  const message = typeof params['message'] === 'string' ? params['message'].trim() : '';
  const link = `Open this link${host ? ` (on ${host})` : ''} to continue, then accept: ${url}`;
  const out: Json = {
    ...(withMode ? { mode: 'form' } : {}),
    message: message === '' ? link : `${message}\n\n${link}`,
    requestedSchema: { type: 'object', properties: {} },
  };
  if (params['_meta'] !== undefined) out['_meta'] = params['_meta'];
  return out;
}

/** The answer to a URL-mode elicitation from the answer to the form that stood for it: the action only. */
export function urlAnswerFromForm(result: Json): Json {
  const out: Json = { action: result['action'] };
  if (result['_meta'] !== undefined) out['_meta'] = result['_meta'];
  return out;
}
