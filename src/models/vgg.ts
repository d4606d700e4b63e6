// VGG-11/16 with BatchNorm for CSG at CIFAR size. `features` is torchvision's vgg11_bn / vgg16_bn
// `features` Sequential (same indices and parameter names: features.0.weight, features.1.running_mean,
// ...) without its final MaxPool2d, so a 32x32 input leaves a 2x2 map of 512 filters. The head is
// global average pooling + a single fc(512 -> numClasses) instead of torchvision's 3-layer classifier
// (torchvision's `avgpool`/`classifier` are not present: load its features.* with strict=false).
// Initialization as torchvision: convs kaiming_normal_(fan_out, relu) with zero bias, BN 1/0,
// Linear N(0, 0.01) with zero bias.
import type { Tensor } from '../torch/tensor.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential, init } from '../torch/nn/index.js';
import { GapBackbone } from './types.js';

export const VGG_CFGS: Record<'vgg11' | 'vgg16', (number | 'M')[]> = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
};

export interface VggOptions { inChannels?: number; numClasses?: number }

export class VGG extends GapBackbone {
  readonly features_: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;
  readonly numFilters = 512;
  readonly numClasses: number;

  constructor(readonly cfgName: 'vgg11' | 'vgg16', o: VggOptions = {}) {
    super();
    this.numClasses = o.numClasses ?? 10;
    const cfg = VGG_CFGS[cfgName].slice(0, -1); // drop the last 'M' (keeps the spatial map for CSG)
    const layers: Module[] = [];
    let c = o.inChannels ?? 3;
    for (const v of cfg) {
      if (v === 'M') { layers.push(new MaxPool2d(2, { stride: 2 })); continue; }
      layers.push(new Conv2d(c, v, 3, { padding: 1 }), new BatchNorm2d(v), new ReLU(true));
      c = v;
    }
    this.features_ = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(512, this.numClasses));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
        if (m.bias) init.constant_(m.bias, 0);
      } else if (m instanceof BatchNorm2d) { init.constant_(m.weight!, 1); init.constant_(m.bias!, 0); }
      else if (m instanceof Linear) { init.normal_(m.weight, 0, 0.01); init.constant_(m.bias!, 0); }
    }
  }

  /** The `features` Sequential's output: [N, 512, H/16, W/16] after the last ReLU. */
  features(x: Tensor): Tensor { return this.features_.call(x); }
}

export const vgg11_bn = (o?: VggOptions) => new VGG('vgg11', o);
export const vgg16_bn = (o?: VggOptions) => new VGG('vgg16', o);
