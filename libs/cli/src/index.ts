/** What other packages reuse from the CLI: the admin API client and the command runner. */
export { ApiClient, ApiError, ApiUnreachable, type ApiClientOptions } from './api-client';
export { run, type RunContext } from './cli';
export type { Io } from './io';
