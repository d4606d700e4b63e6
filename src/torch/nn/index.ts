// torch.nn for csgnet: Module, the layers, and torch.nn.init (as `init`).
export * from './module.js';
export * from './layers.js';
export * as init from './init.js';
export * as parallel from './parallel.js';
export { convertSyncBatchNorm, GradientReducer } from './parallel.js';
