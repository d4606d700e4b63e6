export * from './dataset.js';
export * from './rng.js';
export * from './idx.js';
export * from './cifar.js';
export * from './imagefolder.js';
export * from './split.js';
export * from './loader.js';
export * from './registry.js';
