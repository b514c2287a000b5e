export * from './errors';
export * from './context';
export * from './bus';
export * from './service';
