// torch.nn for csgnet: Module, the layers, and torch.nn.init (as `init`).
export * from './module.js';
export * from './layers.js';
export * as init from './init.js';
