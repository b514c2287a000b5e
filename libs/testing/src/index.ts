export * from './nats';
