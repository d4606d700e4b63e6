// torch.nn.init: in-place initializers with PyTorch's fan and gain rules. Each draws from the
// global generator with the same calls as PyTorch (uniform_/normal_), so seeded runs match it.
import type { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' |
  'conv_transpose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

/** torch.nn.init.calculate_gain. `param` is leaky_relu's negative slope (default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
    default: throw new Error(`calculateGain: unsupported nonlinearity '${nonlinearity}'`);
  }
}

/** [fan_in, fan_out] of a weight: dim 1 and dim 0 times the receptive field (dims 2...). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  const s = t.shape;
  if (s.length < 2) throw new Error(`Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (shape [${s}])`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return [s[1] * receptive, s[0] * receptive];
}

function fan(t: Tensor, mode: FanMode): number {
  const [fi, fo] = calculateFanInAndFanOut(t);
  if (mode === 'fan_in') return fi;
  if (mode === 'fan_out') return fo;
  throw new Error(`Mode ${mode} not supported, please use one of fan_in, fan_out`);
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor { return noGrad(() => t.uniform_(a, b)); }
export function normal_(t: Tensor, mean = 0, std = 1): Tensor { return noGrad(() => t.normal_(mean, std)); }
export function constant_(t: Tensor, value: number): Tensor { return noGrad(() => t.fill_(value)); }
export function zeros_(t: Tensor): Tensor { return noGrad(() => t.zero_()); }
export function ones_(t: Tensor): Tensor { return noGrad(() => t.fill_(1)); }

export interface KaimingOptions { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity }

/** He et al. uniform: U(-b, b), b = gain * sqrt(3 / fan). Defaults a=0, fan_in, leaky_relu (as PyTorch). */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  if (t.shape.includes(0)) return t;
  const std = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan(t, o.mode ?? 'fan_in'));
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound);
}

/** He et al. normal: N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  if (t.shape.includes(0)) return t;
  const std = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan(t, o.mode ?? 'fan_in'));
  return normal_(t, 0, std);
}

/** Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -a, a);
}

/** Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)));
}
