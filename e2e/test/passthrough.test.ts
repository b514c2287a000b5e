/**
 * Full pass-through: the fixture feature suite (every MCP feature, exact shapes) run by a real SDK client
 * through ingress -> NATS -> router -> upstream, for the 2025-06-18 and 2025-11-25 eras, through the
 * per-server endpoint (names unchanged) and the federated endpoint (names namespaced), with the fixture
 * over Streamable HTTP and over stdio.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import {
  ERAS,
  connectHttpProbe,
  featureServerStdioCommand,
  featureSuite,
  federatedNaming,
  perServerNaming,
  startFeatureServerHttp,
  type FeatureHttpServer,
} from '@meshgate/testing';
import { startGateway, type Gateway } from '../src/gateway';

let gateway: Gateway;
let fixtureHttp: FeatureHttpServer;

beforeAll(async () => {
  fixtureHttp = await startFeatureServerHttp();
  const stdio = featureServerStdioCommand();
  gateway = await startGateway({
    servers: {
      fx: { url: fixtureHttp.url, type: 'http' },
      fxs: { command: stdio.command, args: stdio.args },
    },
  });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fixtureHttp?.close();
});

const url = (path: string) => `${gateway.ingress[0]!.url}${path}`;

for (const era of ERAS) {
  describe(`per-server endpoint, Streamable HTTP upstream, ${era}`, () => {
    featureSuite((e) => connectHttpProbe(url('/servers/fx/mcp'), { era: e }), {
      naming: perServerNaming,
      era,
      upstreamClientName: 'meshgate',
      eraBridged: true,
    });
  });

  describe(`per-server endpoint, stdio upstream, ${era}`, () => {
    featureSuite((e) => connectHttpProbe(url('/servers/fxs/mcp'), { era: e }), {
      naming: perServerNaming,
      era,
      crashable: true,
      upstreamClientName: 'meshgate',
      eraBridged: true,
    });
  });

  describe(`federated endpoint, Streamable HTTP upstream, ${era}`, () => {
    featureSuite((e) => connectHttpProbe(url('/mcp'), { era: e }), {
      naming: federatedNaming('fx'),
      era,
      gatewayInfo: { name: 'meshgate' },
      upstreamClientName: 'meshgate',
      eraBridged: true,
    });
  });

  describe(`federated endpoint, stdio upstream, ${era}`, () => {
    featureSuite((e) => connectHttpProbe(url('/mcp'), { era: e }), {
      naming: federatedNaming('fxs'),
      era,
      crashable: true,
      gatewayInfo: { name: 'meshgate' },
      upstreamClientName: 'meshgate',
      eraBridged: true,
    });
  });
}
