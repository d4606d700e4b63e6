// CIFAR-style ResNets (He et al. 2016, section 4.2): 3x3 stem with 16 filters, three stages of
// n BasicBlocks (16, 32, 64 filters; depth = 6n + 2), global average pooling, fc. Shortcuts where
// the shape changes are projections (1x1 conv + BN, "option B") as in ../shared/reference/csg_reference.py;
// parameter names follow torchvision (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc, ...).
import type { Tensor } from '../torch/tensor.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, ReLU, Sequential, chain, init } from '../torch/nn/index.js';
import { GapBackbone } from './types.js';
import { BasicBlock } from './resnet.js';

export interface CifarResNetOptions { inChannels?: number; numClasses?: number; zeroInitResidual?: boolean }

export const CIFAR_RESNET_DEPTHS = [20, 32, 44, 56, 110] as const;

export class CifarResNet extends GapBackbone {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  readonly numFilters = 64;
  readonly numClasses: number;
  private inplanes = 16;

  constructor(readonly depth: number, o: CifarResNetOptions = {}) {
    super();
    if ((depth - 2) % 6 !== 0 || depth < 8) throw new Error(`CifarResNet: depth must be 6n+2 (20, 32, 44, 56, 110, ...), got ${depth}`);
    const n = (depth - 2) / 6;
    const inChannels = o.inChannels ?? 3;
    this.numClasses = o.numClasses ?? 10;
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, 16, 3, { stride: 1, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(16));
    this.relu = this.registerModule('relu', new ReLU(true));
    this.layer1 = this.registerModule('layer1', this.makeLayer(16, n, 1));
    this.layer2 = this.registerModule('layer2', this.makeLayer(32, n, 2));
    this.layer3 = this.registerModule('layer3', this.makeLayer(64, n, 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(64, this.numClasses));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
    }
    if (o.zeroInitResidual) for (const m of this.modules()) if (m instanceof BasicBlock) init.zeros_(m.bn2.weight!);
  }

  private makeLayer(planes: number, blocks: number, stride: number): Sequential {
    let downsample: Sequential | null = null;
    if (stride !== 1 || this.inplanes !== planes) {
      downsample = new Sequential(new Conv2d(this.inplanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes));
    }
    const layer = new Sequential(new BasicBlock(this.inplanes, planes, stride, downsample));
    this.inplanes = planes;
    for (let i = 1; i < blocks; i++) layer.append(new BasicBlock(planes, planes));
    return layer;
  }

  features(x: Tensor): Tensor {
    return chain(x, [(t) => this.conv1.call(t), (t) => this.bn1.call(t), (t) => this.relu.call(t),
      (t) => this.layer1.call(t), (t) => this.layer2.call(t), (t) => this.layer3.call(t)]);
  }
  override get typeName(): string { return 'ResNet'; }
}

export const resnet20 = (o?: CifarResNetOptions) => new CifarResNet(20, o);
export const resnet32 = (o?: CifarResNetOptions) => new CifarResNet(32, o);
export const resnet44 = (o?: CifarResNetOptions) => new CifarResNet(44, o);
export const resnet56 = (o?: CifarResNetOptions) => new CifarResNet(56, o);
export const resnet110 = (o?: CifarResNetOptions) => new CifarResNet(110, o);
