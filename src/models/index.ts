// csgnet's CNN backbones (all implement CsgBackbone) and the model registry.
export * from './types.js';
export * from './resnet.js';
export * from './resnet_cifar.js';
export * from './vgg.js';
export * from './lenet.js';
export * from './registry.js';
export * from './split.js';
