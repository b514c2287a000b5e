/**
 * The OpenAPI 3.1 document of the audit API, served at `/openapi.json`. Parameters and bodies are generated
 * from the same zod schemas the routes validate with (`z.toJSONSchema`), so the document cannot drift from
 * what the service accepts and answers.
 */
import { z } from 'zod';
import { EventsPage, Problem, PublicKeyAnswer, VerifyAnswer } from './api-answers';
import { AuditFilters, EventsQuery, ExportQuery, TenantQuery } from './api-query';

type JsonSchema = Record<string, unknown>;

function schemaOf(type: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(type, { io, unrepresentable: 'any' }) as JsonSchema;
  return schema;
}

function queryParameters(query: z.ZodObject): JsonSchema[] {
  const required = new Set((schemaOf(query, 'input')['required'] as string[] | undefined) ?? []);
  return Object.entries(query.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: schemaOf(field as z.ZodType, 'input'),
  }));
}

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const guarded = {
  '400': problem('an invalid, unknown or repeated query parameter'),
  '401': problem('an API key is required (Authorization: Bearer <API key>), or it is not valid'),
  '403': problem('the principal of the API key may not act as auditor in this tenant'),
  '503': problem('the archive, the audit stream or the API keys cannot be reached'),
};

/** Builds the document; `version` is the service's. */
export function openApiDocument(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Meshgate audit API',
      version,
      description:
        'Query, export, tail and verify the tamper-evident audit trail (ADR 003). Every read is itself audited.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        EventsPage: schemaOf(EventsPage, 'output'),
        VerifyAnswer: schemaOf(VerifyAnswer, 'output'),
        PublicKeyAnswer: schemaOf(PublicKeyAnswer, 'output'),
        Problem: schemaOf(Problem, 'output'),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/audit/events': {
        get: {
          summary: 'Archived events matching the filters, one page at a time, in archive order',
          parameters: queryParameters(EventsQuery),
          responses: { '200': { description: 'a page', content: json('EventsPage') }, ...guarded },
        },
      },
      '/v1/audit/events/export': {
        get: {
          summary: 'Every matching event, streamed as JSON lines or CSV',
          parameters: queryParameters(ExportQuery),
          responses: {
            '200': {
              description: 'one record per line',
              content: { 'application/x-ndjson': {}, 'text/csv': {} },
            },
            ...guarded,
          },
        },
      },
      '/v1/audit/tail': {
        get: {
          summary:
            'Server-Sent Events: each matching event as it is archived (event "audit", id = stream seq)',
          parameters: [
            ...queryParameters(AuditFilters),
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              schema: { type: 'string', pattern: '^\\d{1,15}$' },
            },
          ],
          responses: {
            '200': { description: 'an event stream', content: { 'text/event-stream': {} } },
            ...guarded,
          },
        },
      },
      '/v1/audit/verify': {
        get: {
          summary: "Verifies the tenant's hash chain and signed checkpoints",
          parameters: queryParameters(TenantQuery),
          responses: {
            '200': { description: 'the chain verifies', content: json('VerifyAnswer') },
            '409': problem('the chain does not verify; the problem carries the report and its findings'),
            ...guarded,
          },
        },
      },
      '/v1/audit/public-key': {
        get: {
          summary: 'The Ed25519 key that signs checkpoints (public; neither authorised nor audited)',
          security: [{}],
          responses: { '200': { description: 'the key', content: json('PublicKeyAnswer') } },
        },
      },
    },
  };
}
