/**
 * The Fastify application of one ingress instance: hardened server options, the raw body parser (the MCP
 * routes parse JSON themselves to answer with JSON-RPC errors), the MCP routes on `/mcp` and
 * `/servers/:name/mcp`, the operational routes, the API keys admin API (`/admin/v1/keys`) and the upstream
 * tokens self-service API (`/admin/v1/upstream-tokens`; libs/auth plugins with their own JSON parser and
 * problem details), the legacy HTTP+SSE routes (`/sse` and `/messages`, also under `/servers/:name`),
 * metrics per request, and the two error shapes.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { STATUS_CODES } from 'node:http';
import { adminKeysApi, upstreamTokensApi } from '@meshgate/auth';
import { ErrorCodes, errorResponse } from '@meshgate/contracts';
import type { IngressContext } from './context';
import { registerHealthRoutes } from './health-routes';
import { registerResourceMetadata } from './resource-metadata';
import { holdOpen, sendProblem, sendRpcError } from './http-replies';
import { mcpGuard } from './mcp-guard';
import { handleLegacyPost } from './legacy-post';
import { handleLegacyStream } from './legacy-stream';
import { handlePost } from './post-route';
import { handleDelete, handleGet } from './session-routes';

const MCP_ROUTES = new Set(['/mcp', '/servers/:name/mcp']);
/** The legacy HTTP+SSE transport (spec 2024-11-05): the GET stream and the URL its `endpoint` event names. */
const LEGACY_ROUTES = [
  { stream: '/sse', post: '/messages' },
  { stream: '/servers/:name/sse', post: '/servers/:name/messages' },
];
const RPC_ROUTES = new Set([...MCP_ROUTES, ...LEGACY_ROUTES.flatMap((r) => [r.stream, r.post])]);

/** Builds the Fastify app of one instance over its shared context (not yet listening). */
export function buildApp(ctx: IngressContext): FastifyInstance {
  const logger: FastifyBaseLogger = ctx.logger;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.config.maxBodyBytes,
    routerOptions: { maxParamLength: 128 },
    // Idle sockets and slow senders are cut off; held calls and streams lift the idle limit (holdOpen).
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 65_000,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // Malformed URLs and over-long parameters, refused before routing.
    frameworkErrors: (err, _request, reply) => {
      const status = err.statusCode ?? 400;
      void sendProblem(reply, status, STATUS_CODES[status] ?? 'Bad Request', err.message);
    },
  });
  app.server.headersTimeout = 15_000;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.raw.headersSent ? String(reply.raw.statusCode) : 'aborted';
      ctx.metrics.httpRequests.inc({ route, method: request.method, status });
    });
  });

  const guard = mcpGuard(ctx);
  const hold = async (request: FastifyRequest) => holdOpen(request);
  for (const url of MCP_ROUTES) {
    app.route({
      method: 'POST',
      url,
      onRequest: guard,
      preHandler: hold,
      handler: (rq, rp) => handlePost(ctx, rq, rp),
    });
    app.route({
      method: 'GET',
      url,
      onRequest: guard,
      preHandler: hold,
      handler: (rq, rp) => handleGet(ctx, rq, rp),
    });
    app.route({
      method: 'DELETE',
      url,
      onRequest: guard,
      preHandler: hold,
      handler: (rq, rp) => handleDelete(ctx, rq, rp),
    });
  }
  for (const { stream, post } of LEGACY_ROUTES) {
    app.route({
      method: 'GET',
      url: stream,
      onRequest: guard,
      preHandler: hold,
      handler: (rq, rp) => handleLegacyStream(ctx, rq, rp),
    });
    app.route({
      method: 'POST',
      url: post,
      onRequest: guard,
      handler: (rq, rp) => handleLegacyPost(ctx, rq, rp),
    });
  }
  registerHealthRoutes(app, ctx);
  registerResourceMetadata(app, ctx);
  void app.register(adminKeysApi, { store: ctx.keys.store, verifier: ctx.keys.verifier });
  void app.register(upstreamTokensApi, ctx.upstreamTokens);

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, 'Not Found', `no route for ${request.method} ${request.url.slice(0, 200)}`),
  );
  app.setErrorHandler((err: FastifyError, request, reply) => answerError(ctx, err, request, reply));
  return app;
}

/** Errors thrown by Fastify (body too large, bad content length) or by a handler. */
function answerError(
  ctx: IngressContext,
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const status =
    err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) ctx.logger.error({ err, url: request.url.slice(0, 200) }, 'request failed');
  const title = STATUS_CODES[status] ?? 'Error';
  const detail =
    status === 413
      ? `the body exceeds ${ctx.config.maxBodyBytes} bytes`
      : status < 500
        ? err.message
        : 'internal error';
  if (RPC_ROUTES.has(request.routeOptions.url ?? ''))
    return sendRpcError(
      reply,
      status,
      errorResponse(
        null,
        status < 500 ? ErrorCodes.InvalidRequest : ErrorCodes.InternalError,
        `${title}: ${detail}`,
      ),
    );
  return sendProblem(reply, status, title, detail);
}
