export * from './subjects';
export * from './jsonrpc';
export * from './servers';
export * from './session';
export * from './router';
export * from './audit';
export * from './auth';
