/**
 * The REST resource `/v1/servers`: list, read, create, replace and delete server definitions. Writes are
 * conditional when the client sends `If-Match` (412 when the revision moved on); every change is announced
 * through `onChange` once the catalogue holds it.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RegistryChanged, RegistryListReply, ServerRecord } from '@meshgate/contracts';
import { RevisionConflict, type ServerCatalogue } from '@meshgate/store';
import { HttpProblem } from './problem';
import { etag, parseDefinition, parseIfMatch, parseName, type Precondition } from './server-requests';

export interface ServersApiDeps {
  catalogue: ServerCatalogue;
  /** Told about every change, after the catalogue holds it. */
  onChange: (change: RegistryChanged) => void;
}

interface NameParams {
  name: string;
}

const location = (name: string) => `/v1/servers/${name}`;

/** Registers the `/v1/servers` routes on `app`. */
export function registerServersApi(app: FastifyInstance, { catalogue, onChange }: ServersApiDeps): void {
  const sendRecord = (reply: FastifyReply, status: number, record: ServerRecord) =>
    reply.code(status).header('etag', etag(record.revision)).send(record);

  /** The revision a write expects, from If-Match; a missing server under `*` is a 412. */
  async function expectedRevision(name: string, pre: Precondition): Promise<number | undefined> {
    if (pre.kind === 'none') return undefined;
    if (pre.kind === 'revision') return pre.revision;
    const current = await catalogue.get(name);
    if (!current) throw new HttpProblem(412, `server "${name}" does not exist`);
    return current.revision;
  }

  app.get('/v1/servers', async (): Promise<RegistryListReply> => ({ v: 1, servers: await catalogue.list() }));

  app.get<{ Params: NameParams }>('/v1/servers/:name', async (request, reply) => {
    const name = parseName(request.params.name);
    const record = await catalogue.get(name);
    if (!record) throw new HttpProblem(404, `server "${name}" does not exist`);
    return sendRecord(reply, 200, record);
  });

  app.post('/v1/servers', async (request, reply) => {
    const definition = parseDefinition(request.body);
    const record = await catalogue.put(definition, { expectedRevision: 0 }).catch((err: unknown) => {
      throw err instanceof RevisionConflict
        ? new HttpProblem(409, `server "${definition.name}" already exists`)
        : err;
    });
    onChange({ v: 1, op: 'put', name: definition.name, revision: record.revision });
    return sendRecord(reply.header('location', location(definition.name)), 201, record);
  });

  app.put<{ Params: NameParams }>('/v1/servers/:name', async (request, reply) => {
    const name = parseName(request.params.name);
    const definition = parseDefinition(request.body, name);
    const pre = parseIfMatch(request.headers['if-match']);
    const expected = await expectedRevision(name, pre);
    const existed = pre.kind === 'none' ? (await catalogue.get(name)) !== null : true;
    const record = await catalogue
      .put(definition, expected === undefined ? {} : { expectedRevision: expected })
      .catch((err: unknown) => {
        throw err instanceof RevisionConflict ? new HttpProblem(412, err.message) : err;
      });
    onChange({ v: 1, op: 'put', name, revision: record.revision });
    if (existed) return sendRecord(reply, 200, record);
    return sendRecord(reply.header('location', location(name)), 201, record);
  });

  app.delete<{ Params: NameParams }>('/v1/servers/:name', async (request, reply) => {
    const name = parseName(request.params.name);
    const expected = await expectedRevision(name, parseIfMatch(request.headers['if-match']));
    const revision = await catalogue
      .remove(name, expected === undefined ? {} : { expectedRevision: expected })
      .catch((err: unknown) => {
        throw err instanceof RevisionConflict ? new HttpProblem(412, err.message) : err;
      });
    if (revision === null) throw new HttpProblem(404, `server "${name}" does not exist`);
    onChange({ v: 1, op: 'delete', name, revision });
    return reply.code(204).send();
  });
}
