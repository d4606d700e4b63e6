// torch.optim.Adam and torch.optim.AdamW (PyTorch 1.13, single-tensor path, bias-corrected).
import { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import { Optimizer, type ParamGroup, type ParamGroupSpec } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

export interface AdamParamGroup extends ParamGroup {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

abstract class AdamBase extends Optimizer<AdamParamGroup> {
  /** AdamW's decoupled weight decay (p *= 1 - lr * wd) instead of Adam's L2 term in the gradient. */
  protected abstract readonly decoupled: boolean;

  constructor(params: Tensor[] | ParamGroupSpec<AdamParamGroup>[], opts: AdamOptions, defaultWeightDecay: number) {
    const betas = opts.betas ?? [0.9, 0.999];
    super(params, {
      lr: opts.lr ?? 1e-3,
      betas: [betas[0], betas[1]],
      eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? defaultWeightDecay,
      amsgrad: opts.amsgrad ?? false,
      maximize: opts.maximize ?? false,
    });
  }

  protected override validateGroup(g: AdamParamGroup): void {
    if (!(g.lr >= 0)) throw new Error(`Invalid learning rate: ${g.lr}`);
    if (!(g.eps >= 0)) throw new Error(`Invalid epsilon value: ${g.eps}`);
    if (!Array.isArray(g.betas) || g.betas.length !== 2) throw new Error('betas must be a pair [beta1, beta2]');
    if (!(g.betas[0] >= 0 && g.betas[0] < 1)) throw new Error(`Invalid beta parameter at index 0: ${g.betas[0]}`);
    if (!(g.betas[1] >= 0 && g.betas[1] < 1)) throw new Error(`Invalid beta parameter at index 1: ${g.betas[1]}`);
    if (!(g.weightDecay >= 0)) throw new Error(`Invalid weight_decay value: ${g.weightDecay}`);
  }

  protected updateGroup(group: AdamParamGroup): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    for (const p of group.params) {
      const g = p.grad;
      if (!g) continue;
      let grad = maximize ? g.neg() : g;
      const st = this.stateOf(p);
      if (Object.keys(st).length === 0) {
        st.step = 0;
        st.exp_avg = this.own(zerosLike(p));
        st.exp_avg_sq = this.own(zerosLike(p));
        if (amsgrad) st.max_exp_avg_sq = this.own(zerosLike(p));
      }
      const expAvg = st.exp_avg as Tensor;
      const expAvgSq = st.exp_avg_sq as Tensor;
      const step = (st.step as number) + 1;
      st.step = step;

      if (this.decoupled) p.mul_(1 - lr * weightDecay);
      else if (weightDecay !== 0) grad = grad.add(p, weightDecay);

      expAvg.mul_(beta1).add_(grad, 1 - beta1);
      expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);

      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2 = 1 - beta2 ** step;
      const stepSize = lr / biasCorrection1;
      const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);

      let denom: Tensor;
      if (amsgrad) {
        let maxSq = st.max_exp_avg_sq;
        if (!(maxSq instanceof Tensor)) { maxSq = this.own(zerosLike(p)); st.max_exp_avg_sq = maxSq; }
        maxSq.copy_(maxSq.maximum(expAvgSq));
        denom = maxSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      } else {
        denom = expAvgSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      }
      p.addcdiv_(expAvg, denom, -stepSize);
    }
  }
}

/** torch.optim.Adam: weight decay is an L2 term added to the gradient. Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Tensor[] | ParamGroupSpec<AdamParamGroup>[], opts: AdamOptions = {}) {
    super(params, opts, 0);
  }
}

/** torch.optim.AdamW: decoupled weight decay (p *= 1 - lr * weightDecay before the Adam update). Default weightDecay 1e-2. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Tensor[] | ParamGroupSpec<AdamParamGroup>[], opts: AdamOptions = {}) {
    super(params, opts, 1e-2);
  }
}
