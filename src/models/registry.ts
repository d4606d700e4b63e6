// Model registry: createModel(name, options) for every backbone csgnet trains.
import type { CsgBackbone } from './types.js';
import { CifarResNet } from './resnet_cifar.js';
import { ResNet } from './resnet.js';
import { VGG } from './vgg.js';
import { LeNet } from './lenet.js';
import { MODEL_NAMES as NAMES } from './names.js';

export interface CreateModelOptions {
  inChannels?: number;
  numClasses?: number;
  /** The input side length the model will see; checked against the model's minimum. */
  inputSize?: number;
  /** ResNets: zero-init the last BN of each residual block. */
  zeroInitResidual?: boolean;
}

export interface ModelInfo {
  name: string;
  family: 'resnet_cifar' | 'resnet' | 'vgg' | 'lenet';
  /** The recommended (native) input side length. */
  inputSize: number;
  /** The smallest input side length that gives a feature map of at least 1x1 (2x2 for VGG). */
  minInputSize: number;
  defaultNumClasses: number;
  description: string;
  create(o: { inChannels: number; numClasses: number; zeroInitResidual?: boolean }): CsgBackbone;
}

const cifar = (depth: number): ModelInfo => ({
  name: `resnet${depth}`, family: 'resnet_cifar', inputSize: 32, minInputSize: 4, defaultNumClasses: 10,
  description: `CIFAR-style ResNet-${depth} (3 stages of ${(depth - 2) / 6} BasicBlocks, 16/32/64 filters, projection shortcuts)`,
  create: (o) => new CifarResNet(depth, o),
});
const imagenet = (name: string, block: 'basic' | 'bottleneck', layers: [number, number, number, number]): ModelInfo => ({
  name, family: 'resnet', inputSize: 224, minInputSize: 32, defaultNumClasses: 1000,
  description: `torchvision ${name} (ImageNet-style, ${block === 'basic' ? 'BasicBlock' : 'Bottleneck'} ${layers.join('-')})`,
  create: (o) => new ResNet(block, layers, o),
});

const MODELS: ModelInfo[] = [
  cifar(20), cifar(32), cifar(44), cifar(56), cifar(110),
  imagenet('resnet18', 'basic', [2, 2, 2, 2]), imagenet('resnet34', 'basic', [3, 4, 6, 3]),
  imagenet('resnet50', 'bottleneck', [3, 4, 6, 3]), imagenet('resnet101', 'bottleneck', [3, 4, 23, 3]),
  imagenet('resnet152', 'bottleneck', [3, 8, 36, 3]),
  { name: 'vgg11_bn', family: 'vgg', inputSize: 32, minInputSize: 32, defaultNumClasses: 10,
    description: 'VGG-11-BN features (torchvision names, last max-pool dropped) + GAP + fc(512 -> C), CIFAR size',
    create: (o) => new VGG('vgg11', o) },
  { name: 'vgg16_bn', family: 'vgg', inputSize: 32, minInputSize: 32, defaultNumClasses: 10,
    description: 'VGG-16-BN features (torchvision names, last max-pool dropped) + GAP + fc(512 -> C), CIFAR size',
    create: (o) => new VGG('vgg16', o) },
  { name: 'lenet', family: 'lenet', inputSize: 28, minInputSize: 4, defaultNumClasses: 10,
    description: 'LeNet-style (conv5x5-ReLU-maxpool) x 2 with 32/64 filters + GAP + fc, for 28x28 inputs',
    create: (o) => new LeNet(o) },
];
const BY_NAME = new Map(MODELS.map((m) => [m.name, m]));

/** The registered model names (for CLI choices); the same list as ./names.ts, which loads no model code. */
export const MODEL_NAMES: string[] = MODELS.map((m) => m.name);
if (MODEL_NAMES.join() !== NAMES.join()) throw new Error(`src/models/names.ts lists [${NAMES}] but the registry holds [${MODEL_NAMES}]`);

/** The registered model names, in a stable order. */
export function modelNames(): string[] { return MODELS.map((m) => m.name); }

/** The registry entry of a model (recommended input size, family, ...). */
export function modelInfo(name: string): ModelInfo {
  const m = BY_NAME.get(name);
  if (!m) throw new Error(`unknown model '${name}'; known models: ${modelNames().join(', ')}`);
  return m;
}

/** Builds a registered model with PyTorch's initialization (seed with manualSeed for reproducibility). */
export function createModel(name: string, o: CreateModelOptions = {}): CsgBackbone {
  const info = modelInfo(name);
  const inChannels = o.inChannels ?? 3;
  const numClasses = o.numClasses ?? info.defaultNumClasses;
  for (const [k, v] of [['inChannels', inChannels], ['numClasses', numClasses]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`createModel(${name}): ${k} must be a positive integer, got ${v}`);
  }
  if (o.inputSize !== undefined && !(Number.isInteger(o.inputSize) && o.inputSize >= info.minInputSize)) {
    throw new Error(`createModel(${name}): inputSize ${o.inputSize} is too small (minimum ${info.minInputSize}, recommended ${info.inputSize})`);
  }
  return info.create({ inChannels, numClasses, zeroInitResidual: o.zeroInitResidual });
}
