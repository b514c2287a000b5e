/** Shared HTTP pieces of Meshgate's APIs. */
export * from './problem';
export * from './api-app';
