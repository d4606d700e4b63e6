// The Optimizer base (torch.optim.Optimizer): parameter groups with per-group overrides, lazily
// created per-parameter state, zeroGrad, and state dicts in PyTorch's layout.
//
// Ownership: the optimizer owns its state tensors (momentum buffers, moment estimates). step() runs
// under noGrad inside a tidy scope, so temporaries are freed at once; state tensors are kept.
import { Tensor } from '../tensor.js';
import { noGrad, enableGrad } from '../autograd.js';
import { tidy, keep } from '../scope.js';

/** One value of a parameter's optimizer state: a tensor (owned by the optimizer), a number (step), or null. */
export type StateValue = Tensor | number | null;
/** Per-parameter state, keyed with PyTorch's names (momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq, step). */
export type ParamState = Record<string, StateValue>;

/** A parameter group as held by an optimizer: its tensors plus every hyper-parameter, camelCased. */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  /** Set by LR schedulers (PyTorch's `initial_lr`). */
  initialLr?: number;
}

/** Hyper-parameters of a group (everything but params). */
export type GroupOptions<G extends ParamGroup> = Omit<G, 'params'>;
/** A parameter group as passed to a constructor or addParamGroup: params plus optional overrides of the defaults. */
export type ParamGroupSpec<G extends ParamGroup> = { params: Tensor[] | Tensor } & Partial<GroupOptions<G>>;

/** PyTorch's optimizer state_dict layout: state keyed by parameter index, groups listing parameter indices. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  /** Each group's hyper-parameters under PyTorch's snake_case names, plus `params`: the parameter indices. */
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

/** A state dict split for storage: tensors by flat name (e.g. `optim.state.3.exp_avg`) and the rest as JSON. */
export interface FlatStateDict {
  tensors: Record<string, Tensor>;
  json: { state: Record<string, Record<string, number | null>>; param_groups: OptimizerStateDict['param_groups'] };
}

export function toSnakeCase(k: string): string {
  return k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}
export function toCamelCase(k: string): string {
  return k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function copyValue(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

function isTensor(v: unknown): v is Tensor {
  return v !== null && typeof v === 'object' && (v as Tensor).__isTensor === true;
}

export abstract class Optimizer<G extends ParamGroup = ParamGroup> {
  /** Hyper-parameters used for any group that does not override them. */
  readonly defaults: GroupOptions<G>;
  /** The parameter groups; hyper-parameters (e.g. `paramGroups[i].lr`) may be read and written freely. */
  readonly paramGroups: G[] = [];
  /** Per-parameter state, created lazily on a parameter's first step with a gradient. */
  readonly state = new Map<Tensor, ParamState>();
  /** Number of step() calls (PyTorch's `_step_count`, as counted by schedulers). */
  stepCount = 0;

  constructor(params: Tensor[] | ParamGroupSpec<G>[], defaults: GroupOptions<G>) {
    this.defaults = defaults;
    if (isTensor(params)) throw new TypeError('params given to the optimizer should be an array of Tensors or param groups, but got a Tensor');
    if (!Array.isArray(params)) throw new TypeError('params given to the optimizer should be an array of Tensors or param groups');
    if (params.length === 0) throw new Error('optimizer got an empty parameter list');
    const groups: ParamGroupSpec<G>[] = isTensor(params[0]) ? [{ params: params as Tensor[] } as ParamGroupSpec<G>] : (params as ParamGroupSpec<G>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a parameter group; missing hyper-parameters are taken from the defaults. */
  addParamGroup(spec: ParamGroupSpec<G>): void {
    if (spec === null || typeof spec !== 'object' || isTensor(spec)) throw new TypeError('param group must be an object with a params array');
    const params = isTensor(spec.params) ? [spec.params] : Array.isArray(spec.params) ? [...spec.params] : null;
    if (!params) throw new TypeError('param group must have a params array');
    for (const p of params) {
      if (!isTensor(p)) throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${typeof p}`);
      if (p.isDisposed) throw new Error('optimizer: a parameter was disposed');
      if (!p.isLeaf) throw new Error("can't optimize a non-leaf Tensor");
    }
    if (new Set(params).size !== params.length) throw new Error('optimizer contains a parameter group with duplicate parameters');
    const group = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(spec)) if (k !== 'params' && v !== undefined) group[k] = v;
    for (const [k, v] of Object.entries(group)) group[k] = copyValue(v);
    if (typeof group.lr !== 'number') throw new Error('parameter group didn\'t specify a value of required optimization parameter lr');
    group.params = params;
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    if (params.some((p) => seen.has(p))) throw new Error('some parameters appear in more than one parameter group');
    this.validateGroup(group as unknown as G);
    this.paramGroups.push(group as unknown as G);
  }

  /** Checks a group's hyper-parameters (subclasses throw on invalid values). */
  protected validateGroup(_group: G): void {}

  /** All parameters, in group order. */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * Clears the gradients of all parameters: sets them to null (default, frees memory), or zeroes
   * them in place when setToNone is false.
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) { p.grad = null; continue; }
        const gr = p.grad;
        if (!gr) continue;
        try {
          noGrad(() => {
            if (gr.requiresGrad && !gr.isLeaf) {
              const d = gr.detach();
              d.zero_();
              p.grad = d;
              d.dispose();
            } else {
              if (gr.requiresGrad) gr.requiresGrad_(false);
              gr.zero_();
            }
          });
        } finally {
          gr.dispose();
        }
      }
    }
  }

  /**
   * One optimization step over every parameter that has a gradient (parameters whose grad is null are
   * skipped). An optional closure re-evaluates the loss (with gradients enabled) before the update;
   * its result is returned.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    let loss: T | undefined;
    if (closure) loss = enableGrad(closure);
    noGrad(() => tidy(() => {
      for (const g of this.paramGroups) this.updateGroup(g);
    }));
    this.stepCount++;
    return loss;
  }

  /** Updates one group's parameters in place (runs under noGrad inside tidy). */
  protected abstract updateGroup(group: G): void;

  /** The state of p, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) { s = {}; this.state.set(p, s); }
    return s;
  }

  /** Marks a tensor created inside step() as optimizer state, so that step()'s scope does not free it. */
  protected own(t: Tensor): Tensor {
    return keep(t);
  }

  /**
   * The optimizer state in PyTorch's layout. State tensors are the optimizer's own (live, not copies):
   * do not dispose or modify them. Numbers (e.g. `step`) are plain JS numbers.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let start = 0;
    const param_groups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[toSnakeCase(k)] = copyValue(v);
      const ids = g.params.map((p, i) => {
        if (!index.has(p)) index.set(p, start + i);
        return index.get(p)!;
      });
      start += g.params.length;
      return { ...packed, params: ids };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, param_groups };
  }

  /**
   * Loads a state dict (from stateDict(), fromFlat, or PyTorch's layout). Tensors are copied (cast to
   * each parameter's dtype and device, except `step`), so the caller keeps ownership of its tensors.
   * `step` may be a number or a one-element tensor.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const groups = this.paramGroups;
    const saved = sd.param_groups;
    if (!Array.isArray(saved) || groups.length !== saved.length) throw new Error('loaded state dict has a different number of parameter groups');
    for (let i = 0; i < groups.length; i++) {
      if (groups[i].params.length !== saved[i].params.length) {
        throw new Error("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
    }
    const idMap = new Map<number, Tensor>();
    for (let i = 0; i < groups.length; i++) saved[i].params.forEach((id, j) => idMap.set(Number(id), groups[i].params[j]));

    // Build the new state first (copies), then free the old one.
    const fresh = new Map<Tensor, ParamState>();
    try {
      for (const [k, entry] of Object.entries(sd.state ?? {})) {
        const p = idMap.get(Number(k));
        if (!p) continue;
        const s: ParamState = {};
        for (const [name, v] of Object.entries(entry)) {
          if (isTensor(v)) {
            if (name === 'step') s[name] = v.item();
            else {
              const floating = p.isFloatingPoint();
              s[name] = keep(tidy(() => noGrad(() => v.detach().to({ dtype: floating ? p.dtype : v.dtype, device: p.device }).clone())));
            }
          } else s[name] = (v ?? null) as StateValue;
        }
        fresh.set(p, s);
      }
    } catch (e) {
      for (const s of fresh.values()) disposeState(s);
      throw e;
    }
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
    for (const [p, s] of fresh) this.state.set(p, s);

    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as unknown as Record<string, unknown>;
      for (const k of Object.keys(g)) if (k !== 'params') delete g[k];
      for (const [k, v] of Object.entries(saved[i])) if (k !== 'params') g[toCamelCase(k)] = copyValue(v);
    }
  }

  /** The state dict split into named tensors and JSON (see stateDictToFlat). */
  toFlat(prefix = 'optim.'): FlatStateDict {
    return stateDictToFlat(this.stateDict(), prefix);
  }

  /** Loads a state dict saved with toFlat (tensors are copied; the caller keeps ownership). */
  fromFlat(tensors: Record<string, Tensor>, json: FlatStateDict['json'], prefix = 'optim.'): void {
    this.loadStateDict(stateDictFromFlat(tensors, json, prefix));
  }

  /** Frees all state tensors (the optimizer can still step; state is re-created lazily). */
  dispose(): void {
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
  }
}

function disposeState(s: ParamState): void {
  for (const v of Object.values(s)) if (isTensor(v)) v.dispose();
}

/**
 * Splits a state dict for storage: every tensor in `state` becomes `${prefix}state.<index>.<name>`
 * (the tensors are the optimizer's own, not copies); numbers and nulls stay in `json.state`.
 */
export function stateDictToFlat(sd: OptimizerStateDict, prefix = 'optim.'): FlatStateDict {
  const tensors: Record<string, Tensor> = {};
  const state: Record<string, Record<string, number | null>> = {};
  for (const [k, entry] of Object.entries(sd.state)) {
    const js: Record<string, number | null> = {};
    for (const [name, v] of Object.entries(entry)) {
      if (isTensor(v)) tensors[`${prefix}state.${k}.${name}`] = v;
      else js[name] = v;
    }
    state[k] = js;
  }
  return { tensors, json: { state, param_groups: sd.param_groups.map((g) => ({ ...g, params: [...g.params] })) } };
}

/** Reassembles a state dict from stateDictToFlat's output (tensor names not under `${prefix}state.` are ignored). */
export function stateDictFromFlat(tensors: Record<string, Tensor>, json: FlatStateDict['json'], prefix = 'optim.'): OptimizerStateDict {
  const state: Record<number, ParamState> = {};
  for (const [k, entry] of Object.entries(json.state ?? {})) state[Number(k)] = { ...entry };
  const head = `${prefix}state.`;
  for (const [name, t] of Object.entries(tensors)) {
    if (!name.startsWith(head)) continue;
    const rest = name.slice(head.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) continue;
    const idx = Number(rest.slice(0, dot));
    if (!Number.isInteger(idx)) continue;
    (state[idx] ??= {})[rest.slice(dot + 1)] = t;
  }
  return { state, param_groups: json.param_groups };
}
