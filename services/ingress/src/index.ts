/** Public surface of the ingress service: configuration and the start/stop handle. */
export { loadConfig, IngressConfig } from './config';
export { start, type IngressHandle } from './service';
