/**
 * The lists (tools, resources, resource templates, prompts) of one upstream, fetched page by page and kept
 * in memory until the upstream says they changed (list_changed) or the connection is re-initialised.
 * A fetch that fails is not kept, so the next request asks again.
 */
import { ErrorCodes } from '@meshgate/contracts';
import { ListMethods, type ListItem, type ListKind } from '@meshgate/mcp';
import type { Outcome } from './relay-table';

/** Most pages followed for one list: a bound against an upstream whose cursors never end. */
export const MaxListPages = 100;

/** Sends one list request upstream with the time left; never rejects (errors are outcomes). */
export type PageRequest = (
  method: string,
  params: Record<string, unknown> | undefined,
  timeoutMs: number,
) => Promise<Outcome>;

/** An upstream list request failed; the message is the upstream's or the gateway's reason. */
export class ListUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListUnavailable';
  }
}

/**
 * Fetches every page of one list before `deadline`. An upstream that does not implement the method
 * (-32601) has an empty list; any other error fails the whole list.
 */
export async function fetchAllPages(
  kind: ListKind,
  request: PageRequest,
  deadline: number,
): Promise<ListItem[]> {
  const items: ListItem[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MaxListPages; page++) {
    const out = await request(
      ListMethods[kind],
      cursor === undefined ? undefined : { cursor },
      deadline - Date.now(),
    );
    if ('error' in out) {
      if (out.error.code === ErrorCodes.MethodNotFound) return items;
      throw new ListUnavailable(out.error.message);
    }
    const list = out.result[kind];
    if (Array.isArray(list)) items.push(...(list as ListItem[]));
    const next = out.result['nextCursor'];
    if (typeof next !== 'string' || next === '' || next === cursor) break;
    cursor = next;
  }
  return items;
}

/** The cached lists of one upstream connection. */
export class ListCache {
  private readonly lists = new Map<ListKind, Promise<ListItem[]>>();

  constructor(private readonly fetch: (kind: ListKind, deadline: number) => Promise<ListItem[]>) {}

  /** The cached list of `kind`, or a new fetch of it (shared by everyone asking meanwhile). */
  get(kind: ListKind, deadline: number): Promise<ListItem[]> {
    const cached = this.lists.get(kind);
    if (cached) return cached;
    const fetching = this.fetch(kind, deadline);
    this.lists.set(kind, fetching);
    fetching.catch(() => {
      if (this.lists.get(kind) === fetching) this.lists.delete(kind);
    });
    return fetching;
  }

  /** Forgets the lists of `kinds`, or all of them. */
  invalidate(kinds?: readonly ListKind[]): void {
    if (!kinds) this.lists.clear();
    else for (const kind of kinds) this.lists.delete(kind);
  }
}
