// torch.nn.Module for csgnet: explicit registration of parameters, buffers and child modules,
// with PyTorch's traversal order, dotted state-dict names, train/eval and freezing by name.
import { Tensor, type Dtype, type MemoryFormat } from '../tensor.js';
import { native } from '../native.js';
import { keep } from '../scope.js';
import { noGrad } from '../autograd.js';
import { saveSafetensors, loadSafetensors } from '../io/safetensors.js';

/**
 * Marks a tensor as a parameter: detaches it from any tidy scope (it must outlive them) and sets
 * requiresGrad. Returns the same tensor (csgnet parameters are plain Tensors, as in TorchSharp).
 */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  keep(t);
  if (t.requiresGrad !== requiresGrad) t.requiresGrad_(requiresGrad);
  return t;
}

export type StateDict = Record<string, Tensor>;

export interface LoadStateDictResult { missingKeys: string[]; unexpectedKeys: string[] }

/** Prefix match on dotted-name boundaries: "layer1" matches "layer1.0.conv1.weight", not "layer10.x". */
function matchesPrefix(name: string, prefix: string): boolean {
  if (prefix === '') return true;
  if (prefix.endsWith('.')) return name.startsWith(prefix);
  return name === prefix || name.startsWith(prefix + '.');
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, Module | null>();

  /** The computation; subclasses implement it. Call modules with call(x) (PyTorch's __call__). */
  abstract forward(x: Tensor): Tensor;

  call(x: Tensor): Tensor { return this.forward(x); }

  /** The class name, as PyTorch prints it. */
  get typeName(): string { return this.constructor.name; }

  // ---- registration -----------------------------------------------------------------------------
  private checkName(name: string, kind: string): void {
    if (!name || name.includes('.')) throw new Error(`${this.typeName}: ${kind} name must be non-empty and contain no '.', got '${name}'`);
    const taken = (this._parameters.has(name) && kind !== 'parameter') || (this._buffers.has(name) && kind !== 'buffer') ||
      (this._modules.has(name) && kind !== 'module');
    if (taken) throw new Error(`${this.typeName}: '${name}' is already registered as another kind than ${kind}`);
  }

  /** Registers (or replaces) a parameter; null registers an absent one (like bias=None). Returns it. */
  registerParameter<T extends Tensor | null>(name: string, t: T, requiresGrad = true): T {
    this.checkName(name, 'parameter');
    if (t) parameter(t, requiresGrad);
    this._parameters.set(name, t);
    return t;
  }

  /** Registers a buffer (state that is not a parameter, e.g. BatchNorm's running stats). Returns it. */
  registerBuffer<T extends Tensor | null>(name: string, t: T, persistent = true): T {
    this.checkName(name, 'buffer');
    if (t) keep(t);
    this._buffers.set(name, t);
    if (persistent) this._nonPersistent.delete(name); else this._nonPersistent.add(name);
    return t;
  }

  /** Registers a child module under a name (Sequential uses "0", "1", ...). Returns it. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    this.checkName(name, 'module');
    this._modules.set(name, m);
    return m;
  }

  getParameter(name: string): Tensor | null | undefined { return this._parameters.get(name); }
  getBuffer(name: string): Tensor | null | undefined { return this._buffers.get(name); }
  getModule(name: string): Module | null | undefined { return this._modules.get(name); }

  /** Looks up a submodule by dotted path ("layer1.0.conv1"); "" is this module. */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      const c = m._modules.get(part);
      if (!c) throw new Error(`${m.typeName} has no submodule '${part}' (looking up '${target}')`);
      m = c;
    }
    return m;
  }

  // ---- traversal (PyTorch's order; arrays rather than generators) -------------------------------
  /** [name, child] for the direct children, in registration order, each module once. */
  namedChildren(): [string, Module][] {
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    for (const [n, m] of this._modules) if (m && !seen.has(m)) { seen.add(m); out.push([n, m]); }
    return out;
  }
  children(): Module[] { return this.namedChildren().map(([, m]) => m); }

  /** This module and all submodules, depth first, each once: [dotted name, module]. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const memo = new Set<Module>();
    const visit = (m: Module, pre: string) => {
      if (memo.has(m)) return;
      memo.add(m);
      out.push([pre, m]);
      for (const [n, c] of m._modules) if (c) visit(c, join(pre, n));
    };
    visit(this, prefix);
    return out;
  }
  modules(): Module[] { return this.namedModules().map(([, m]) => m); }

  private namedMembers(which: '_parameters' | '_buffers', prefix: string, recurse: boolean): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, t] of m[which]) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([join(mp, n), t]);
      }
    }
    return out;
  }
  /** [dotted name, parameter] for this module's parameters (and its submodules' when recurse). */
  namedParameters(prefix = '', recurse = true): [string, Tensor][] { return this.namedMembers('_parameters', prefix, recurse); }
  parameters(recurse = true): Tensor[] { return this.namedParameters('', recurse).map(([, t]) => t); }
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] { return this.namedMembers('_buffers', prefix, recurse); }
  buffers(recurse = true): Tensor[] { return this.namedBuffers('', recurse).map(([, t]) => t); }

  /** Total number of parameter elements (optionally only trainable ones). */
  numParameters(onlyTrainable = false): number {
    let n = 0;
    for (const p of this.parameters()) if (!onlyTrainable || p.requiresGrad) n += p.numel;
    return n;
  }

  // ---- modes -------------------------------------------------------------------------------------
  train(mode = true): this {
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }
  eval(): this { return this.train(false); }

  /** Calls fn on every submodule (children first, then this), like nn.Module.apply. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  requiresGrad_(on = true): this {
    for (const p of this.parameters()) p.requiresGrad_(on);
    return this;
  }

  private setGradByPrefix(prefixes: string[], on: boolean): string[] {
    const changed: string[] = [];
    const used = new Set<string>();
    for (const [n, p] of this.namedParameters()) {
      const hit = prefixes.find((pre) => matchesPrefix(n, pre));
      if (hit === undefined) continue;
      used.add(hit);
      p.requiresGrad_(on);
      changed.push(n);
    }
    const unused = prefixes.filter((p) => !used.has(p));
    if (unused.length) throw new Error(`${this.typeName}: no parameters match prefix(es) ${unused.map((p) => `'${p}'`).join(', ')}`);
    return changed;
  }
  /**
   * Sets requiresGrad=false on every parameter whose dotted name equals or starts with one of the
   * prefixes (on '.' boundaries). Throws when a prefix matches nothing. Returns the names changed.
   */
  freeze(prefixes: string[]): string[] { return this.setGradByPrefix(prefixes, false); }
  /** The inverse of freeze. */
  unfreeze(prefixes: string[]): string[] { return this.setGradByPrefix(prefixes, true); }

  /** Clears parameter gradients: sets them to null (setToNone, the default) or zeroes them in place. */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      if (!g) continue;
      if (setToNone) p.grad = null;
      else noGrad(() => g.zero_());
      g.dispose();
    }
  }

  // ---- state -------------------------------------------------------------------------------------
  /**
   * Parameters and persistent buffers by PyTorch's dotted names, in PyTorch's order (each module's
   * parameters, then its buffers, then its children). The values are the module's own tensors, not
   * copies: do not dispose them.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = {};
    const visit = (m: Module, pre: string) => {
      for (const [n, t] of m._parameters) if (t) out[join(pre, n)] = t;
      for (const [n, t] of m._buffers) if (t && !m._nonPersistent.has(n)) out[join(pre, n)] = t;
      for (const [n, c] of m._modules) if (c) visit(c, join(pre, n));
    };
    visit(this, prefix);
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers (in place, under noGrad,
   * converting dtype and device). With strict (the default), missing or unexpected keys are errors;
   * shape mismatches are always errors. All problems are reported together.
   */
  loadStateDict(dict: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const src = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !(k in own));
    const errors: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const s = src.get(k);
      if (!s) continue;
      const a = t.shape, b = s.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        errors.push(`size mismatch for ${k}: copying a param with shape [${b}] from checkpoint, the shape in current model is [${a}]`);
      }
    }
    if (strict) {
      if (missingKeys.length) errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
      if (unexpectedKeys.length) errors.splice(missingKeys.length ? 1 : 0, 0, `Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    if (errors.length) throw new Error(`Error(s) in loading state_dict for ${this.typeName}:\n\t${errors.join('\n\t')}`);
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const s = src.get(k);
        if (s) t.copy_(s);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Saves stateDict() as a .safetensors file (atomically). */
  save(path: string, metadata?: Record<string, string>): void { saveStateDict(this, path, metadata); }
  /** Loads a .safetensors state dict written by save() or by PyTorch (safetensors.torch.save_file). */
  load(path: string, opts: { strict?: boolean } = {}): LoadStateDictResult { return loadStateDictFile(this, path, opts); }

  /**
   * Moves (or casts) every parameter and buffer, keeping the same Tensor objects (their native
   * storage is swapped, like assigning param.data in PyTorch), so optimizers keep their references.
   * Only floating-point tensors are cast by a dtype.
   */
  to(target: string | { device?: string; dtype?: 'float32' | 'float64' | 'float16' | 'bfloat16'; memoryFormat?: MemoryFormat }): this {
    const o: { device?: string; dtype?: string; memoryFormat?: MemoryFormat } = typeof target === 'string'
      ? (target.startsWith('float') || target === 'bfloat16' ? { dtype: target } : { device: target }) : target;
    const swap = (t: Tensor) => {
      const wantDtype = (o.dtype && t.isFloatingPoint() ? o.dtype : t.dtype) as Dtype;
      const wantDevice = o.device ?? t.device;
      // Like PyTorch's model.to(memory_format=...): only 4-D tensors change layout.
      const wantFormat = o.memoryFormat && t.ndim === 4 && !t.isContiguous(o.memoryFormat) ? o.memoryFormat : undefined;
      if (wantDtype === t.dtype && sameDevice(wantDevice, t.device) && !wantFormat) return;
      const rg = t.requiresGrad;
      const moved = keep(noGrad(() => t.to({ device: wantDevice, dtype: wantDtype, memoryFormat: wantFormat })));
      const g = t.grad;
      let movedGrad: Tensor | null = null;
      if (g) { movedGrad = noGrad(() => g.to({ device: wantDevice, dtype: wantDtype, memoryFormat: wantFormat })); g.dispose(); }
      const old = t.h;
      t.h = moved.h;
      native.dispose(old); // `moved` now shares its handle with t
      if (rg) t.requiresGrad_(true);
      if (movedGrad) { t.grad = movedGrad; movedGrad.dispose(); }
    };
    for (const p of this.parameters()) swap(p);
    for (const b of this.buffers()) swap(b);
    return this;
  }

  /** Frees every parameter and buffer of this module tree; the module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  // ---- printing ----------------------------------------------------------------------------------
  /** Extra text inside the parentheses of this module's repr, e.g. "3, 16, kernel_size=(3, 3)". */
  extraRepr(): string { return ''; }

  /** A multi-line description like PyTorch's repr(module). */
  toString(): string {
    const kids = [...this._modules].filter(([, m]) => m) as [string, Module][];
    if (!kids.length) return `${this.typeName}(${this.extraRepr()})`;
    const lines = [`${this.typeName}(${this.extraRepr() ? this.extraRepr() : ''}`];
    for (const [n, m] of kids) lines.push(`  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    lines.push(')');
    return lines.join('\n');
  }
}

function sameDevice(a: string, b: string): boolean {
  const norm = (d: string) => (d === 'cuda' ? 'cuda:0' : d);
  return norm(a) === norm(b);
}

/** Saves a module's state dict as .safetensors. */
export function saveStateDict(m: Module, path: string, metadata?: Record<string, string>): void {
  saveSafetensors(path, m.stateDict(), metadata);
}

/** Loads a .safetensors file into a module (see Module.loadStateDict); frees the loaded tensors. */
export function loadStateDictFile(m: Module, path: string, opts: { strict?: boolean } = {}): LoadStateDictResult {
  const { tensors } = loadSafetensors(path);
  try {
    return m.loadStateDict(tensors, opts);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
