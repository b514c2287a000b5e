/**
 * Chooses the transport of a definition: the one factory the connection pool is given in production. An
 * `auto` definition is opened as Streamable HTTP until era detection (establish) names its wire.
 */
import type { TransportFactory } from './transport';
import { StdioTransport } from './stdio-transport';
import { StreamableHttpTransport } from './streamable-http-transport';
import { LegacySseTransport } from './legacy-sse-transport';

/** Builds the transport a definition names. */
export const createTransport: TransportFactory = (def, events, log, caller) => {
  switch (def.transport) {
    case 'stdio':
      return new StdioTransport(def, events, log);
    case 'streamable-http':
    case 'auto':
      return new StreamableHttpTransport(def, events, log, caller);
    case 'sse':
      return new LegacySseTransport(def, events, log, caller);
  }
};
