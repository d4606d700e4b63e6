// torch.optim.SGD (PyTorch 1.13, single-tensor path): momentum, dampening, Nesterov, weight decay, maximize.
import { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup, type ParamGroupSpec } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

export interface SGDParamGroup extends ParamGroup {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * Stochastic gradient descent, exactly as torch.optim.SGD:
 *   g = ±grad (+ weightDecay * p); buf = g on the first step, else momentum * buf + (1 - dampening) * g;
 *   g = nesterov ? g + momentum * buf : buf;  p -= lr * g.
 */
export class SGD extends Optimizer<SGDParamGroup> {
  constructor(params: Tensor[] | ParamGroupSpec<SGDParamGroup>[], opts: SGDOptions) {
    if (!opts || typeof opts.lr !== 'number') throw new Error('SGD: lr is required');
    super(params, {
      lr: opts.lr,
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      weightDecay: opts.weightDecay ?? 0,
      nesterov: opts.nesterov ?? false,
      maximize: opts.maximize ?? false,
    });
  }

  protected override validateGroup(g: SGDParamGroup): void {
    if (!(g.lr >= 0)) throw new Error(`Invalid learning rate: ${g.lr}`);
    if (!(g.momentum >= 0)) throw new Error(`Invalid momentum value: ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new Error(`Invalid weight_decay value: ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error('Nesterov momentum requires a momentum and zero dampening');
  }

  protected updateGroup(group: SGDParamGroup): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const p of group.params) {
      const grad = p.grad;
      if (!grad) continue;
      let dp = maximize ? grad.neg() : grad;
      if (weightDecay !== 0) dp = dp.add(p, weightDecay);
      const st = this.stateOf(p);
      if (momentum !== 0) {
        let buf = st.momentum_buffer;
        if (!(buf instanceof Tensor)) {
          buf = this.own(dp.clone());
          st.momentum_buffer = buf;
        } else {
          buf.mul_(momentum).add_(dp, 1 - dampening);
        }
        dp = nesterov ? dp.add(buf, momentum) : buf;
      } else {
        st.momentum_buffer = null;
      }
      p.add_(dp, -lr);
    }
  }
}
