export * from './versions';
export * from './namespacing';
export * from './list-merge';
export * from './request-mapping';
export * from './task-mapping';
export * from './logging';
export * from './capabilities';
export * from './era-results';
