// torch.optim: optimizers over Tensor[] or parameter groups, and learning-rate schedulers.
export * from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
export * from './lr_scheduler.js';
