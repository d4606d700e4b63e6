// ImageNet ResNets exactly as torchvision.models.resnet builds them (v1.5: stride on the 3x3 conv
// of Bottleneck): same module tree, parameter names, shapes, construction order and initialization
// (kaiming_normal_(fan_out, relu) for convs, BN 1/0, optional zero-init of each block's last BN),
// so torchvision state dicts load directly and seeded construction matches torchvision's weights.
import type { Tensor } from '../torch/tensor.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, chain, init } from '../torch/nn/index.js';
import { GapBackbone } from './types.js';

const conv3x3 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 3, { stride, padding: 1, bias: false });
const conv1x1 = (i: number, o: number, stride = 1) => new Conv2d(i, o, 1, { stride, bias: false });

/**
 * The end of every residual block: relu(out + shortcut(x)), where the shortcut is the identity or the
 * downsample projection; frees the intermediates at once (blocks run outside tidy in training loops).
 */
function residualTail(out: Tensor, x: Tensor, downsample: Module | null, relu: ReLU): Tensor {
  const identity = downsample ? downsample.call(x) : x;
  const sum = out.add(identity);
  out.dispose();
  if (identity !== x) identity.dispose();
  const y = relu.call(sum);
  sum.dispose();
  return y;
}

/** torchvision's BasicBlock (expansion 1): conv3x3-bn-relu-conv3x3-bn, + shortcut, relu. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Module | null;

  constructor(inplanes: number, planes: number, readonly stride = 1, downsample: Module | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new ReLU(true));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const out = chain(x, [(t) => this.conv1.call(t), (t) => this.bn1.call(t), (t) => this.relu.call(t),
      (t) => this.conv2.call(t), (t) => this.bn2.call(t)]);
    return residualTail(out, x, this.downsample, this.relu);
  }
}

/** torchvision's Bottleneck (expansion 4): 1x1-bn-relu, 3x3(stride)-bn-relu, 1x1-bn, + shortcut, relu. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly relu: ReLU;
  readonly downsample: Module | null;

  constructor(inplanes: number, planes: number, readonly stride = 1, downsample: Module | null = null) {
    super();
    const width = planes; // base_width 64, groups 1
    this.conv1 = this.registerModule('conv1', conv1x1(inplanes, width));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', conv3x3(width, width, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', conv1x1(width, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * Bottleneck.expansion));
    this.relu = this.registerModule('relu', new ReLU(true));
    this.downsample = this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const out = chain(x, [(t) => this.conv1.call(t), (t) => this.bn1.call(t), (t) => this.relu.call(t),
      (t) => this.conv2.call(t), (t) => this.bn2.call(t), (t) => this.relu.call(t),
      (t) => this.conv3.call(t), (t) => this.bn3.call(t)]);
    return residualTail(out, x, this.downsample, this.relu);
  }
}

export type BlockKind = 'basic' | 'bottleneck';
export interface ResNetOptions { inChannels?: number; numClasses?: number; zeroInitResidual?: boolean }

/** torchvision.models.ResNet (groups 1, width 64, no dilation). */
export class ResNet extends GapBackbone {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  readonly numFilters: number;
  readonly numClasses: number;
  private inplanes = 64;

  constructor(readonly block: BlockKind, readonly layers: [number, number, number, number], o: ResNetOptions = {}) {
    super();
    const expansion = block === 'basic' ? 1 : 4;
    this.numClasses = o.numClasses ?? 1000;
    this.numFilters = 512 * expansion;
    this.conv1 = this.registerModule('conv1', new Conv2d(o.inChannels ?? 3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.relu = this.registerModule('relu', new ReLU(true));
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    this.layer1 = this.registerModule('layer1', this.makeLayer(64, layers[0], 1));
    this.layer2 = this.registerModule('layer2', this.makeLayer(128, layers[1], 2));
    this.layer3 = this.registerModule('layer3', this.makeLayer(256, layers[2], 2));
    this.layer4 = this.registerModule('layer4', this.makeLayer(512, layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(512 * expansion, this.numClasses));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) { init.constant_(m.weight!, 1); init.constant_(m.bias!, 0); }
    }
    if (o.zeroInitResidual) {
      for (const m of this.modules()) {
        if (m instanceof Bottleneck) init.constant_(m.bn3.weight!, 0);
        else if (m instanceof BasicBlock) init.constant_(m.bn2.weight!, 0);
      }
    }
  }

  private makeLayer(planes: number, blocks: number, stride: number): Sequential {
    const expansion = this.block === 'basic' ? 1 : 4;
    const make = (i: number, p: number, s: number, d: Module | null) =>
      this.block === 'basic' ? new BasicBlock(i, p, s, d) : new Bottleneck(i, p, s, d);
    let downsample: Module | null = null;
    if (stride !== 1 || this.inplanes !== planes * expansion) {
      downsample = new Sequential(conv1x1(this.inplanes, planes * expansion, stride), new BatchNorm2d(planes * expansion));
    }
    const layer = new Sequential(make(this.inplanes, planes, stride, downsample));
    this.inplanes = planes * expansion;
    for (let i = 1; i < blocks; i++) layer.append(make(this.inplanes, planes, 1, null));
    return layer;
  }

  features(x: Tensor): Tensor {
    return chain(x, [(t) => this.conv1.call(t), (t) => this.bn1.call(t), (t) => this.relu.call(t), (t) => this.maxpool.call(t),
      (t) => this.layer1.call(t), (t) => this.layer2.call(t), (t) => this.layer3.call(t), (t) => this.layer4.call(t)]);
  }
}

export const resnet18 = (o?: ResNetOptions) => new ResNet('basic', [2, 2, 2, 2], o);
export const resnet34 = (o?: ResNetOptions) => new ResNet('basic', [3, 4, 6, 3], o);
export const resnet50 = (o?: ResNetOptions) => new ResNet('bottleneck', [3, 4, 6, 3], o);
export const resnet101 = (o?: ResNetOptions) => new ResNet('bottleneck', [3, 4, 23, 3], o);
export const resnet152 = (o?: ResNetOptions) => new ResNet('bottleneck', [3, 8, 36, 3], o);
