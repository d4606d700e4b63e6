// A small LeNet-style CNN for 28x28 inputs: (conv5x5 pad 2 - ReLU - maxpool 2) x 2 with 32 and 64
// filters, then global average pooling + fc. features(x) is the second block's pooled map
// [N, 64, 7, 7] for 28x28 inputs (ReLU'd, max pooling keeps it non-negative).
import type { Tensor } from '../torch/tensor.js';
import { AdaptiveAvgPool2d, Conv2d, Linear, MaxPool2d, ReLU, chain } from '../torch/nn/index.js';
import { GapBackbone } from './types.js';

export interface LeNetOptions { inChannels?: number; numClasses?: number; filters?: [number, number] }

export class LeNet extends GapBackbone {
  readonly conv1: Conv2d;
  readonly relu1: ReLU;
  readonly pool1: MaxPool2d;
  readonly conv2: Conv2d;
  readonly relu2: ReLU;
  readonly pool2: MaxPool2d;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  readonly numFilters: number;
  readonly numClasses: number;

  constructor(o: LeNetOptions = {}) {
    super();
    const [f1, f2] = o.filters ?? [32, 64];
    this.numFilters = f2;
    this.numClasses = o.numClasses ?? 10;
    this.conv1 = this.registerModule('conv1', new Conv2d(o.inChannels ?? 1, f1, 5, { padding: 2 }));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.pool1 = this.registerModule('pool1', new MaxPool2d(2));
    this.conv2 = this.registerModule('conv2', new Conv2d(f1, f2, 5, { padding: 2 }));
    this.relu2 = this.registerModule('relu2', new ReLU());
    this.pool2 = this.registerModule('pool2', new MaxPool2d(2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(f2, this.numClasses));
  }

  features(x: Tensor): Tensor {
    return chain(x, [(t) => this.conv1.call(t), (t) => this.relu1.call(t), (t) => this.pool1.call(t),
      (t) => this.conv2.call(t), (t) => this.relu2.call(t), (t) => this.pool2.call(t)]);
  }
}

export const lenet = (o?: LeNetOptions) => new LeNet(o);
