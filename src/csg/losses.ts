// CSG loss terms (method.md section 2).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';

/** lambda * max(0, sum|G| - rho * K * C): the hinge L1 sparsity penalty on the gate. */
export function gateSparsityPenalty(gate: Tensor, lambda: number, rho: number): Tensor {
  return torch.tidy(() => {
    const [k, c] = gate.shape;
    return torch.F.relu(gate.abs().sum().sub(rho * k * c)).mul(lambda);
  });
}
