/** Shared HTTP pieces of Meshgate's APIs. */
export * from './problem';
export * from './api-app';
export * from './json-body';
