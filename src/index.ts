// csgnet's public surface: `import { torch, createModel, Trainer } from 'csgnet'`. The torch layer is
// a namespace (as in PyTorch); the rest is flat. Subpaths (csgnet/torch, csgnet/models, csgnet/data,
// csgnet/csg, csgnet/metrics, csgnet/explain, csgnet/io) give the same modules one by one.
export * as torch from './torch/index.js';
export { TorchError } from './torch/errors.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './csg/index.js';
export * from './metrics/index.js';
export * from './metrics/faithfulness/index.js';
export * from './explain/index.js';
export * from './attack/index.js';
export * from './export/index.js';
export * from './io/npy.js';
export * from './detect/index.js';
