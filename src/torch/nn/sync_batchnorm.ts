// nn.SyncBatchNorm's training forward: batch statistics over every rank's batch, as if the group's
// batches were one. Two differentiable allreduces (sum and count, then the centred sum of squares)
// give the same mean and biased variance as a single-process BatchNorm over the concatenated batch,
// and autograd through them gives its gradient; running statistics use the unbiased global variance.
import type { Tensor } from '../tensor.js';
import { cat, full } from '../creation.js';
import { noGrad } from '../autograd.js';
import { allReduceAutograd, type ProcessGroup } from '../distributed.js';

/** What SyncBatchNorm reads and updates of a BatchNorm2d (structural, so that layers.ts, which calls
 *  this, is not imported back). */
export interface BatchNormState {
  eps: number;
  weight: Tensor | null;
  bias: Tensor | null;
  trackRunningStats: boolean;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
}

export function syncBatchNorm(bn: BatchNormState, x: Tensor, momentum: number, group: ProcessGroup): Tensor {
  const C = x.shape[1]!;
  const dims = [0, 2, 3];
  const local = x.shape[0]! * x.shape[2]! * x.shape[3]!;
  const shape = [1, C, 1, 1];
  const sumAndCount = allReduceAutograd(cat([x.sum(dims), full([1], local, { dtype: x.dtype })]), group);
  const n = Number(sumAndCount.narrow(0, C, 1).item());
  if (n <= 1) throw new Error(`SyncBatchNorm: expected more than 1 value per channel over the group when training, got ${n}`);
  const mean = sumAndCount.narrow(0, 0, C).div(n);
  const centred = x.sub(mean.view(shape));
  const variance = allReduceAutograd(centred.square().sum(dims), group).div(n);
  let y = centred.mul(variance.add(bn.eps).rsqrt().view(shape));
  if (bn.weight) y = y.mul(bn.weight.view(shape));
  if (bn.bias) y = y.add(bn.bias.view(shape));
  if (bn.trackRunningStats && bn.runningMean && bn.runningVar) {
    noGrad(() => {
      bn.runningMean!.mul_(1 - momentum).add_(mean.detach().mul(momentum));
      bn.runningVar!.mul_(1 - momentum).add_(variance.detach().mul(momentum * n / (n - 1)));
    });
  }
  return y;
}
