export { loadConfig, RouterEnv, type RouterConfig } from './config';
export { start, type RouterHandle } from './router';
