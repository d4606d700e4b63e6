// Autograd entry points over libtorch's engine: grad mode scopes and torch.autograd.grad.
import { native } from './native.js';
import { Tensor, wrap } from './tensor.js';

function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = native.setGradEnabled(on);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T { return withGradMode(false, fn); }
/** Runs fn with gradient recording on (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T { return withGradMode(true, fn); }
export function isGradEnabled(): boolean { return native.isGradEnabled(); }

export interface GradOptions { gradOutputs?: (Tensor | null)[]; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean }

/** torch.autograd.grad: gradients of outputs w.r.t. inputs (null for unused inputs when allowed). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  return wrap(native.grad(outs.map((t) => t.h), ins.map((t) => t.h), opts.gradOutputs ? opts.gradOutputs.map((g) => g?.h ?? null) : null,
    opts.retainGraph, opts.createGraph, opts.allowUnused));
}

/** torch.autograd.backward over several roots. */
export function backward(tensors: Tensor[], grads?: (Tensor | null)[], opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
  native.backward(tensors.map((t) => t.h), grads ? grads.map((g) => g?.h ?? null) : null, opts.retainGraph, opts.createGraph);
}
