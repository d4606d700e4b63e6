// A backbone cut at a named module (pytorch-grad-cam's target layer, by its state-dict prefix), so an
// explainer can run the network up to that module's output and the rest from there. Every csgnet backbone's
// features(x) runs its feature stages one after another (GapBackbone.featureStages), and a Sequential
// runs its children one after another, so a cut is exact at any stage and, recursively, at any child of a
// Sequential stage ('layer3', 'layer3.1', 'features.10'). Modules inside a residual block (layer3.1.conv1)
// are not on that path: their output is not what the rest of the network consumes.
import type { Tensor } from '../torch/tensor.js';
import { Sequential, chain, type Module } from '../torch/nn/index.js';
import type { CsgBackbone } from './types.js';

export interface LayerSplit {
  /** The module's name; '' for the default (the last feature map, model.features). */
  readonly layer: string;
  /** x -> the module's output A [N, K, h, w]. */
  prefix(x: Tensor): Tensor;
  /** A -> the logits: the rest of the backbone, then the head. */
  suffix(a: Tensor): Tensor;
}

/** The names a backbone can be cut at, in forward order. */
export function layerNames(model: CsgBackbone): string[] {
  const out: string[] = [];
  const visit = (mods: [string, Module][], pre: string) => {
    for (const [n, m] of mods) {
      out.push(pre + n);
      if (m instanceof Sequential) visit(m.namedChildren(), `${pre}${n}.`);
    }
  };
  visit(model.featureStages(), '');
  return out;
}

/** The modules before and after the cut (both in forward order), or null when `path` is not on the path. */
function cut(mods: [string, Module][], path: string[]): { before: Module[]; after: Module[] } | null {
  const i = mods.findIndex(([n]) => n === path[0]);
  if (i < 0) return null;
  const head = mods.slice(0, i).map(([, m]) => m), tail = mods.slice(i + 1).map(([, m]) => m), m = mods[i]![1];
  if (path.length === 1) return { before: [...head, m], after: tail };
  if (!(m instanceof Sequential)) return null;
  const inner = cut(m.namedChildren(), path.slice(1));
  return inner && { before: [...head, ...inner.before], after: [...inner.after, ...tail] };
}

const run = (mods: Module[]) => (x: Tensor): Tensor => chain(x, mods.map((m) => (t: Tensor) => m.call(t)));

/** Whether `s` cuts at the last feature map (the default: model.features, model.head). */
export const isLastFeatureMap = (model: CsgBackbone, s: LayerSplit): boolean => s.layer === '' || s.layer === model.featureStages().at(-1)?.[0];

/**
 * The model cut after `layer` (undefined or the last stage: model.features and model.head, as before).
 * An unknown name is an error that lists the valid ones.
 */
export function splitAt(model: CsgBackbone, layer?: string): LayerSplit {
  const stages = model.featureStages();
  // The last stage's output is the last feature map: the same cut as the default.
  if (layer === undefined || layer === stages.at(-1)?.[0]) return { layer: layer ?? '', prefix: (x) => model.features(x), suffix: (a) => model.head(a) };
  const parts = cut(stages, layer.split('.'));
  if (!parts) {
    throw new Error(`layer '${layer}' is not a feature-map module of ${model.typeName} on its forward path; ` +
      `valid layers: ${layerNames(model).join(', ')}`);
  }
  const rest = run(parts.after);
  return {
    layer,
    prefix: run(parts.before),
    suffix: (a) => {
      const f = rest(a);
      const out = model.head(f);
      if (f !== a) f.dispose();
      return out;
    },
  };
}
