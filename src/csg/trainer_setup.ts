// Setting a training run up: its data (train and the validation part), pretrained weights, the
// optimizers and schedulers of both paths, the world-size check, and the config.json record of a new run.
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { SGD, Adam, AdamW, MultiStepLR, type Optimizer } from '../torch/optim/index.js';
import { loadSafetensors } from '../torch/io/safetensors.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { inChildren, type CsgBackbone } from '../models/types.js';
import { loadDataset, splitDataset, type ImageDataset } from '../data/index.js';
import type { ClassSpecificGate } from './gate.js';
import { schedulePlan } from './schedule.js';
import type { OptimizerConfig, TrainConfig } from './config.js';
import { TrainingError } from './trainer_options.js';

/** Parameters of the top `trainTop` children of the model (all when 'all'), by name. */
export function trainableParameters(model: CsgBackbone, trainTop: 'all' | number): [string, Tensor][] {
  const all = [...model.namedParameters()];
  if (trainTop === 'all') return all;
  const children = model.topChildren();
  if (trainTop > children.length) throw new Error(`trainTop ${trainTop} exceeds the model's ${children.length} top-level children (${children.join(', ')})`);
  const top = children.slice(children.length - trainTop);
  return all.filter(([name]) => inChildren(name, top));
}

function makeOptimizer(cfg: OptimizerConfig, params: Tensor[]): Optimizer {
  switch (cfg.name) {
    case 'sgd': return new SGD(params, { lr: cfg.lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay });
    case 'adam': return new Adam(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
    case 'adamw': return new AdamW(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  }
}

/** Loads backbone weights with torchvision names, skipping tensors whose shape differs (e.g. fc). */
export function loadPretrained(model: CsgBackbone, file: string, log: (s: string) => void): void {
  const { tensors } = loadSafetensors(file);
  const own = new Map(Object.entries(model.stateDict()));
  const use: Record<string, Tensor> = {};
  const skipped: string[] = [];
  for (const [k, v] of Object.entries(tensors)) {
    const mine = own.get(k);
    if (mine && mine.shape.join() === v.shape.join()) use[k] = v;
    else skipped.push(k);
  }
  if (!Object.keys(use).length) throw new Error(`${file}: no tensor matches the model's parameter names (expected torchvision names such as ${[...own.keys()][0]})`);
  model.loadStateDict(use, { strict: false });
  log(`pretrained: loaded ${Object.keys(use).length} tensors from ${file}` + (skipped.length ? `, skipped ${skipped.length} (${skipped.slice(0, 4).join(', ')}${skipped.length > 4 ? ', ...' : ''})` : ''));
  for (const t of Object.values(tensors)) t.dispose();
}

/**
 * The optimizers and schedulers of the two paths: one shared by both (csg === std) or one per path
 * (separatePathOptimizers, G then trained with the CSG path unless it has its own), and G's own.
 */
export interface PathOptimizers {
  stdParams: Set<Tensor>;
  csgParams: Set<Tensor>;
  stdOpt: Optimizer;
  csgOpt: Optimizer;
  gateOpt: Optimizer | null;
  stdSched: MultiStepLR;
  csgSched: MultiStepLR;
}

export function pathOptimizers(c: TrainConfig, model: CsgBackbone, gate: ClassSpecificGate | null): PathOptimizers {
  const stdNamed = trainableParameters(model, c.std.trainTop);
  const stdParams = new Set(stdNamed.map(([, p]) => p));
  const stdOpt = makeOptimizer(c.std, stdNamed.map(([, p]) => p));
  const totalMilestones = c.milestones.map((f) => Math.floor(c.epochs * f));
  const stdSched = new MultiStepLR(stdOpt, totalMilestones, c.gamma);
  const gateOpt = gate && c.gate ? makeOptimizer(c.gate, [gate.weight]) : null;
  if (!c.separatePathOptimizers) return { stdParams, csgParams: stdParams, stdOpt, csgOpt: stdOpt, gateOpt, stdSched, csgSched: stdSched };
  const csgNamed = trainableParameters(model, c.csg.trainTop);
  const params = csgNamed.map(([, p]) => p);
  if (gate && !c.gate) params.push(gate.weight);
  const csgOpt = makeOptimizer(c.csg, params);
  return { stdParams, csgParams: new Set(csgNamed.map(([, p]) => p)), stdOpt, csgOpt, gateOpt, stdSched, csgSched: new MultiStepLR(csgOpt, totalMilestones, c.gamma) };
}

/** The training split and the validation set: a held-out part of train (valFraction), else the test split. */
export async function loadTrainingData(config: TrainConfig): Promise<{ train: ImageDataset; val: ImageDataset }> {
  const load = (split: 'train' | 'test') =>
    loadDataset(config.dataset, { root: config.dataRoot, split, size: config.imageSize, canvas: config.canvas, distractors: config.distractors });
  const train = await load('train');
  if (config.valFraction > 0) return splitDataset(train, config.valFraction, config.seed);
  // The test split is normalized with the training statistics, as every later command does.
  const test = await load('test');
  return { train, val: { ...test, mean: [...train.mean], std: [...train.std] } };
}

/** config.json of a new run: its training config, its data (with the normalization every later command uses) and its schedule. */
export function newRunRecord(config: TrainConfig, train: ImageDataset, val: ImageDataset, trainSize: number): unknown {
  return {
    train: config, dataset: { name: train.name, classes: train.classNames, channels: train.channels, height: train.height, width: train.width,
      mean: train.mean, std: train.std, trainSize, valSize: val.length },
    schedule: schedulePlan(config.epochs, config), libtorch: torch.libtorchVersion(), created: new Date().toISOString(),
  };
}

/** Whether this process writes the run folder (a single process, or rank 0 of the group). */
export const isLeaderOf = (group: ProcessGroup | undefined): boolean => !group || group.rank === 0;

/** A run trains with the world size it was made with: the data shards and the batch per step depend on it. */
export function checkWorldSize(config: TrainConfig, group: ProcessGroup | undefined, what: string): void {
  const have = group?.worldSize ?? 1;
  if (config.worldSize !== have) {
    throw new TrainingError(`${what} trains with ${config.worldSize} process${config.worldSize === 1 ? '' : 'es'} (worldSize), but this run has ${have}; ` +
      (config.worldSize === 1 ? 'resume it without --nproc or WORLD_SIZE' : `resume it with --nproc ${config.worldSize} (or WORLD_SIZE=${config.worldSize})`));
  }
}
