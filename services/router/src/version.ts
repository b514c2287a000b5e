/** The router's version, from its package.json: sent as serverInfo.version and clientInfo.version. */
import pkg from '../package.json' with { type: 'json' };

export const RouterVersion: string = pkg.version;
