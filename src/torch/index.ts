// The `torch` namespace of csgnet: tensors, factories, autograd, functional ops, scopes.
export * from './tensor.js';
export * from './creation.js';
export * from './autograd.js';
export * from './scope.js';
export * as F from './functional.js';
export { opSchema, OPS } from './ops.js';
export { TorchError } from './errors.js';
export * as nn from './nn/index.js';
export { saveSafetensors, loadSafetensors, readSafetensorsHeader, type SafetensorsFile } from './io/safetensors.js';
export * as distributed from './distributed.js';
