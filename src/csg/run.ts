// Opening a finished (or interrupted) run folder: its config, model and gate from a checkpoint,
// and the STD-path analyses every command shares (evaluation, GAP features).
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { CsgBackbone } from '../models/types.js';
import { BatchLoader, loadDataset, splitDataset, type ImageDataset } from '../data/index.js';
import type { ClassSpecificGate } from './gate.js';
import { createModelAndGate } from './model.js';
import { checkpointPath, loadSnapshot, withPrefix } from './checkpoint.js';
import { readRunInfo, type RunInfo } from './run_dir.js';



export interface OpenRun extends RunInfo {
  model: CsgBackbone;
  gate: ClassSpecificGate | null;
  checkpoint: string;
  epoch: number;
}

/** Loads model and gate from a run's checkpoint ('last', 'best' or a file path). */
export function openRun(dir: string, which = 'last'): OpenRun {
  const info = readRunInfo(dir);
  const path = checkpointPath(dir, which);
  const snap = loadSnapshot(path);
  const { model, gate } = createModelAndGate(info.config,
    { channels: info.dataset.channels, numClasses: info.dataset.classes.length, height: info.dataset.height });
  model.loadStateDict(withPrefix(snap.tensors, 'model'), { strict: true });
  if (gate) {
    if (!snap.tensors['gate']) throw new Error(`${path}: no gate tensor in the checkpoint, but the run uses the csg strategy`);
    torch.noGrad(() => gate.weight.copy_(snap.tensors['gate']));
  }
  for (const t of Object.values(snap.tensors)) t.dispose();
  model.eval();
  return { ...info, model, gate, checkpoint: path, epoch: snap.state.epoch };
}

/** Per-channel statistics a model's inputs are normalized with, in [0,1] units. */
export interface Normalization { mean: number[]; std: number[] }

export interface RunDataOptions {
  /** Receives a note when an older run's statistics have to be recomputed. */
  log?: (line: string) => void;
}

const recomputed = new Map<string, Promise<Normalization>>();

/**
 * The normalization the run's model was trained with: the training split's statistics, recorded in
 * config.json since they were; a run made before that gets them recomputed from its training split
 * (the same numbers, as long as its data are unchanged), with a note.
 */
export async function trainingNormalization(info: RunInfo, opts: RunDataOptions = {}): Promise<Normalization> {
  const { mean, std } = info.dataset;
  if (mean && std) return { mean: [...mean], std: [...std] };
  const missing = `${info.dir}/config.json records no training normalization (a run made before it was recorded)`;
  opts.log?.(`${missing}: using the statistics of its training split, recomputed now`);
  const c = info.config;
  const key = JSON.stringify([c.dataset, c.dataRoot, c.imageSize, c.canvas, c.distractors]);
  let p = recomputed.get(key);
  if (!p) {
    p = loadDataset(c.dataset, { root: c.dataRoot, split: 'train', size: c.imageSize, canvas: c.canvas, distractors: c.distractors })
      .then((ds) => ({ mean: ds.mean, std: ds.std }),
        (e: Error) => { throw new Error(`${missing}, and its training split cannot be read: ${e.message}`); });
    p.catch(() => recomputed.delete(key));
    recomputed.set(key, p);
  }
  const n = await p;
  return { mean: [...n.mean], std: [...n.std] };
}

/** `ds` normalized as the run's model was trained (any split, any dataset scored with it). */
export async function asTrained(info: RunInfo, ds: ImageDataset, opts: RunDataOptions = {}): Promise<ImageDataset> {
  const n = await trainingNormalization(info, opts);
  if (n.mean.length !== ds.channels || n.std.length !== ds.channels) {
    throw new Error(`${ds.name} images have ${ds.channels} channel(s) but ${info.dir} was trained on ${n.mean.length}`);
  }
  return { ...ds, mean: n.mean, std: n.std };
}

/**
 * A split of a run's data, normalized with the run's training statistics: the test split, the
 * training split, or the held-out part of train ('val', an error when the run has none).
 */
export async function runDataset(info: RunInfo, split: 'train' | 'test' | 'val', opts: RunDataOptions = {}): Promise<ImageDataset> {
  const c = info.config;
  // Without a held-out part, 'val' would silently be the test split under another name.
  if (split === 'val' && !(c.valFraction > 0)) {
    throw new Error(`--split val: run ${info.dir} has no validation split (it was trained without --val-fraction); use --split test or train`);
  }
  let ds: ImageDataset;
  if (split === 'val') {
    const full = await loadDataset(c.dataset, { root: c.dataRoot, split: 'train', size: c.imageSize, canvas: c.canvas, distractors: c.distractors });
    ds = splitDataset(full, c.valFraction, c.seed).val;
  } else {
    ds = await loadDataset(c.dataset, { root: c.dataRoot, split, size: c.imageSize, canvas: c.canvas, distractors: c.distractors });
  }
  if (split === 'train' && !(info.dataset.mean && info.dataset.std)) return ds; // its own statistics are the training ones
  return asTrained(info, ds, opts);
}

export interface Evaluation {
  accuracy: number;
  perClassAccuracy: number[];
  confusion: number[][];
  density: number | null;
  n: number;
}

/** STD-path forward over a dataset in eval mode; calls visit(featuresGAP [B,K], logits [B,C], labels) per batch. */
export function forEachBatch(model: CsgBackbone, ds: ImageDataset, visit: (gap: Tensor, logits: Tensor, labels: Int32Array) => void,
  opts: { batchSize?: number; limit?: number; memoryFormat?: 'contiguous_format' | 'channels_last' } = {}): void {
  const loader = new BatchLoader(ds, { batchSize: opts.batchSize ?? 500, shuffle: false, limit: opts.limit || undefined });
  model.eval();
  torch.noGrad(() => {
    for (const b of loader.epoch(0)) {
      torch.tidy(() => {
        const x = torch.fromTypedArray(b.x, b.shape).contiguous(opts.memoryFormat ?? 'contiguous_format');
        const feats = model.features(x);
        visit(feats.mean([2, 3]), model.head(feats), b.y);
      });
    }
  });
}

export function evaluateRun(run: OpenRun, ds: ImageDataset, limit = 0): Evaluation {
  const C = ds.numClasses;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  let n = 0, correct = 0;
  forEachBatch(run.model, ds, (_gap, logits, labels) => {
    const pred = logits.argmax(1).to('int32').data() as Int32Array;
    for (let i = 0; i < pred.length; i++) {
      confusion[labels[i]][pred[i]]++;
      if (pred[i] === labels[i]) correct++;
      n++;
    }
  }, { limit, memoryFormat: run.config.memoryFormat });
  const perClassAccuracy = confusion.map((row, c) => { const tot = row.reduce((a, b) => a + b, 0); return tot ? row[c] / tot : 0; });
  return { accuracy: correct / Math.max(1, n), perClassAccuracy, confusion, density: run.gate ? run.gate.density() : null, n };
}

/** GAP of the last conv layer (STD path, eval mode): features [N, K] float32 and labels. */
export function extractFeatures(model: CsgBackbone, ds: ImageDataset, limit = 0,
  memoryFormat: 'contiguous_format' | 'channels_last' = 'contiguous_format'): { features: Float32Array; labels: Int32Array; n: number; k: number } {
  const n = limit ? Math.min(limit, ds.length) : ds.length;
  const k = model.numFilters;
  const features = new Float32Array(n * k);
  const labels = new Int32Array(n);
  let pos = 0;
  forEachBatch(model, ds, (gap, _logits, y) => {
    features.set(gap.contiguous().data() as Float32Array, pos * k);
    labels.set(y, pos);
    pos += y.length;
  }, { limit, memoryFormat });
  return { features, labels, n, k };
}
