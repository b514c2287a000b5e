/** The registry service's public surface: configuration, start, and the configuration file parser. */
export { loadConfig, RegistryEnv, type RegistryConfig } from './config';
export { start, type RegistryHandle } from './service';
export { parseConfigFile, ConfigFileError } from './config-file';
