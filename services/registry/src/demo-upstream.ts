/**
 * The demo upstream seeded for the quick start when no configuration file exists: the MCP reference server
 * `@modelcontextprotocol/server-everything`, run over stdio by the same Node binary as Meshgate, so it works
 * without a network or a global install.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { ServerDefinition } from '@meshgate/contracts';

const PACKAGE = '@modelcontextprotocol/server-everything';
const BIN = 'mcp-server-everything';

const PackageJson = z.object({ bin: z.union([z.string(), z.record(z.string(), z.string())]) });

/** Absolute path of the entry script of `@modelcontextprotocol/server-everything` (its `bin`). */
export function everythingEntryScript(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve(`${PACKAGE}/package.json`);
  const manifest = PackageJson.parse(require(manifestPath));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[BIN];
  if (!bin) throw new Error(`${PACKAGE} declares no "${BIN}" bin`);
  return join(dirname(manifestPath), bin);
}

/** The server `everything`: the reference server over stdio. */
export function demoUpstream(): ServerDefinition {
  return {
    name: 'everything',
    description: 'MCP reference server exercising every protocol feature (demo upstream)',
    transport: 'stdio',
    command: process.execPath,
    args: [everythingEntryScript(), 'stdio'],
    env: {},
    enabled: true,
    stateful: false,
    timeoutMs: 60_000,
  };
}
