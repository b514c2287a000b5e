/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) of the MCP endpoints, as the MCP authorization spec
 * asks of a resource server: `/.well-known/oauth-protected-resource/mcp` describes `/mcp`,
 * `/.well-known/oauth-protected-resource/servers/<name>/mcp` one server's endpoint, and the bare well-known
 * path (which clients of the 2025-03-26 era try first) describes `/mcp`. Served only while authentication
 * is on with OAuth issuers configured (the document must name an authorization server); the 401
 * challenges of edge-auth.ts point here then.
 */
import type { FastifyInstance } from 'fastify';
import { ServerName } from '@meshgate/contracts';
import type { IngressContext } from './context';
import { sendProblem } from './http-replies';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Registers the metadata routes on `app`. */
export function registerResourceMetadata(app: FastifyInstance, ctx: IngressContext): void {
  if (ctx.auth.metadata('/mcp') === null) return;
  const send = (path: string) => ctx.auth.metadata(path);
  app.get(WELL_KNOWN, async (_request, reply) =>
    reply.header('cache-control', 'max-age=300').send(send('/mcp')),
  );
  app.get(`${WELL_KNOWN}/mcp`, async (_request, reply) =>
    reply.header('cache-control', 'max-age=300').send(send('/mcp')),
  );
  app.get<{ Params: { name: string } }>(`${WELL_KNOWN}/servers/:name/mcp`, async (request, reply) => {
    const name = ServerName.safeParse(request.params.name);
    if (!name.success) return sendProblem(reply, 404, 'Not Found', 'no such server endpoint');
    return reply.header('cache-control', 'max-age=300').send(send(`/servers/${name.data}/mcp`));
  });
}
