export * from './nats';
export * from './fixtures/index';
export * from './suite/index';
export * from './era/index';
