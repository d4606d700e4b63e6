// Feature squeezing (Xu et al. 2018): compare the model's softmax on the image with its softmax on
// squeezed copies; score = the largest L1 distance. Squeezers as their EvadeML-Zoo code:
//  - bit-depth reduction to b bits: round(x * (2^b - 1)) / (2^b - 1) (round half to even, np.rint);
//  - 2 x 2 median filter as scipy.ndimage.median_filter(size=2, mode='reflect'): the window of pixel
//    (i, j) is rows i-1..i and columns j-1..j (edges repeated), and of its 4 values the 3rd smallest
//    (scipy's rank filter takes rank size // 2 = 2, not the mean of the middle two).
// Default bit depth as their paper: 1 bit for grey images (MNIST), 5 bits for colour (CIFAR-10).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { Detector, type DetectorOptions } from './base.js';

export interface SqueezeOptions extends DetectorOptions {
  /** bit depth of the bit-depth squeezer (default: 1 for 1-channel images, 5 otherwise) */
  bits?: number;
  /** side of the median filter (default 2) */
  medianSize?: number;
}

/** Bit-depth reduction of x in [0, 1] to `bits` bits. */
export function reduceBitDepth(x01: Tensor, bits: number): Tensor {
  checkBits(bits);
  const levels = 2 ** bits - 1;
  return torch.tidy(() => x01.mul(levels).round().div(levels));
}

/** size x size median filter per channel of x [N, C, H, W] (scipy.ndimage.median_filter, mode 'reflect', origin 0). */
export function medianFilter(x: Tensor, size = 2): Tensor {
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`squeeze: the median filter size must be a positive integer, got ${size}`);
  if (x.ndim !== 4) throw new Error(`squeeze: images must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [, , H, W] = x.shape as [number, number, number, number];
  if (size > H + 1 || size > W + 1) throw new Error(`squeeze: a ${size} x ${size} median filter needs images of at least ${size - 1} x ${size - 1}, got ${H} x ${W}`);
  return torch.tidy(() => {
    // scipy centres a window of `size` at offset size // 2: pixels i - size//2 .. i - size//2 + size - 1
    const before = Math.floor(size / 2), after = size - 1 - before;
    // scipy's 'reflect' repeats the edge (d c b a | a b c d), unlike libtorch's 'reflect'
    const padded = symmetricPad(x, before, after);
    const windows: Tensor[] = [];
    for (let di = 0; di < size; di++) for (let dj = 0; dj < size; dj++) windows.push(padded.narrow(2, di, H).narrow(3, dj, W));
    return torch.stack(windows, 4).kthvalue(Math.floor((size * size) / 2) + 1, 4)[0];
  });
}

/** Pads H and W by mirroring with the edge repeated (numpy 'symmetric' = scipy.ndimage 'reflect'). */
function symmetricPad(x: Tensor, before: number, after: number): Tensor {
  let y = x;
  for (const dim of [2, 3]) {
    const n = y.shape[dim]!;
    if (before > n || after > n) throw new Error(`squeeze: padding ${Math.max(before, after)} exceeds the image side ${n}`);
    const parts: Tensor[] = [];
    if (before) parts.push(y.narrow(dim, 0, before).flip([dim]));
    parts.push(y);
    if (after) parts.push(y.narrow(dim, n - after, after).flip([dim]));
    y = parts.length > 1 ? torch.cat(parts, dim) : y;
  }
  return y;
}

export class SqueezeDetector extends Detector {
  readonly name = 'squeeze' as const;
  readonly medianSize: number;
  private readonly bitsOption: number | undefined;

  constructor(o: SqueezeOptions = {}) {
    super(o);
    this.bitsOption = o.bits;
    if (o.bits !== undefined) checkBits(o.bits);
    this.medianSize = o.medianSize ?? 2;
    if (!(Number.isInteger(this.medianSize) && this.medianSize >= 1)) throw new Error(`squeeze: medianSize must be a positive integer, got ${o.medianSize}`);
  }

  /** The bit depth used for this model's images. */
  get bits(): number { return this.bitsOption ?? (this.model.channels === 1 ? 1 : 5); }

  /** L1 distances between softmaxes [N, squeezers]: bit depth, then median. */
  distances(x01: Tensor): Tensor {
    return torch.tidy(() => torch.noGrad(() => {
      const p = torch.F.softmax(this.model.logits(x01), 1);
      const squeezed = [reduceBitDepth(x01, this.bits), medianFilter(x01, this.medianSize)];
      return torch.stack(squeezed.map((s) => torch.F.softmax(this.model.logits(s), 1).sub(p).abs().sum(1)), 1);
    }));
  }

  score(x01: Tensor): Float64Array {
    return this.scoreInBatches(x01, (x) => this.distances(x).amax(1).to('float64').toFloat64Array());
  }
}

function checkBits(bits: number): void {
  if (!(Number.isInteger(bits) && bits >= 1 && bits <= 16)) throw new Error(`squeeze: bits must be an integer in [1, 16], got ${bits}`);
}
