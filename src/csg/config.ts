// Training configuration: every knob of the trainer, the two presets of method.md section 3, and
// validation with messages that name the bad field.
import type { Strategy } from './schedule.js';
import { AUGMENT_MODES, type AugmentMode } from '../data/batch.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';

/** Settings of one path's optimizer (STD or CSG) or of the gate's own optimizer. */
export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** Trainable layers: 'all', or the number of top-level children (counted from the head) to train. */
  trainTop: 'all' | number;
}

export interface TrainConfig {
  preset: 'cifar' | 'voc-part' | 'none';
  dataset: string;
  dataRoot?: string;
  model: string;
  pretrained?: string;
  strategy: Strategy;
  epochs: number;
  batchSize: number;
  /** Use only the first N training images (0 = all). */
  limit: number;
  /** Use only the first N validation images (0 = all). */
  valLimit: number;
  /** Fraction of the training set held out for validation; 0 validates on the test split. */
  valFraction: number;
  seed: number;
  threads: number;
  /** Worker threads preparing batches ahead of compute (0 = between steps, in the main thread). */
  workers: number;
  /** Save a mid-epoch checkpoint every N batches (0 = every CHECKPOINT_SECONDS of training). */
  checkpointEvery: number;
  memoryFormat: 'contiguous_format' | 'channels_last';
  /** Random-crop padding in pixels (0 = none) and horizontal flip. */
  cropPadding: number;
  hflip: boolean;
  /** One crop offset and flip per image ('per-sample') or per batch ('per-batch', the reference script's). */
  augment: AugmentMode;
  /** Resize for imagefolder datasets (pixels). */
  imageSize?: number;
  /** cluttered-* datasets: canvas side and number of 8x8 distractors (defaults 64 and 6). */
  canvas?: number;
  distractors?: number;
  // method
  lambda: number;
  rho: number;
  warmup: number;
  period: number;
  phaseMin: number;
  gateInit: number;
  // optimization
  /** One optimizer for the network in both kinds of epoch (cifar), or one per path (voc-part). */
  separatePathOptimizers: boolean;
  std: OptimizerConfig;
  csg: OptimizerConfig;
  /** The gate's own optimizer (cifar), or null to put G into the CSG optimizer (voc-part). */
  gate: OptimizerConfig | null;
  /** MultiStepLR milestones as fractions of the epochs, and its gamma. */
  milestones: number[];
  gamma: number;
  // data parallel
  /** Processes training together (each on its shard, batchSize images per process and step). */
  worldSize: number;
  /** Batch statistics over all processes (nn.SyncBatchNorm) instead of per process. */
  syncBn: boolean;
}

const sgd = (lr: number): OptimizerConfig => ({ name: 'sgd', lr, momentum: 0.9, nesterov: true, weightDecay: 1e-4, trainTop: 'all' });

/** method.md's from-scratch CIFAR-style recipe (ResNet-20 anchors). */
export const CIFAR_PRESET: TrainConfig = {
  preset: 'cifar', dataset: 'fashion-mnist', model: 'resnet20', strategy: 'csg', epochs: 30, batchSize: 128,
  limit: 0, valLimit: 0, valFraction: 0, seed: 0, threads: 0, workers: 0, checkpointEvery: 0, memoryFormat: 'channels_last', cropPadding: 2, hflip: true, augment: 'per-sample',
  lambda: 0.1, rho: 0.1, warmup: 0, period: 3, phaseMin: 2, gateInit: 0.5,
  separatePathOptimizers: false, std: sgd(0.1), csg: sgd(0.1),
  gate: { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0, trainTop: 'all' },
  milestones: [0.5, 0.75], gamma: 0.1, worldSize: 1, syncBn: false,
};

/** The released VOC Part recipe: Adam, two paths with their own lr and frozen lower layers. */
export const VOC_PART_PRESET: TrainConfig = {
  preset: 'voc-part', dataset: 'imagefolder', model: 'resnet152', strategy: 'csg', epochs: 151, batchSize: 32,
  limit: 0, valLimit: 0, valFraction: 0, seed: 0, threads: 0, workers: 1, checkpointEvery: 0, memoryFormat: 'channels_last', cropPadding: 0, hflip: true, augment: 'per-sample',
  imageSize: 128,
  lambda: 1e-3, rho: 0.2, warmup: 10, period: 3, phaseMin: 2, gateInit: 0.5,
  separatePathOptimizers: true,
  std: { name: 'adam', lr: 1e-5, momentum: 0, nesterov: false, weightDecay: 0, trainTop: 5 },
  csg: { name: 'adam', lr: 1e-3, momentum: 0, nesterov: false, weightDecay: 0, trainTop: 4 },
  gate: null,
  milestones: [0.4, 0.6, 0.8], gamma: 0.1, worldSize: 1, syncBn: false,
};

/** With checkpointEvery 0, a mid-epoch checkpoint is saved after this much training time (a kill loses at most this). */
export const CHECKPOINT_SECONDS = 300;

export const PRESETS: Record<string, TrainConfig> = { cifar: CIFAR_PRESET, 'voc-part': VOC_PART_PRESET };

function fail(field: string, msg: string): never {
  throw new Error(`invalid configuration: ${field} ${msg}`);
}

function checkOptimizer(where: string, o: OptimizerConfig): void {
  if (!['sgd', 'adam', 'adamw'].includes(o.name)) fail(`${where}.name`, `must be sgd, adam or adamw, got ${JSON.stringify(o.name)}`);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) fail(`${where}.lr`, `must be a positive number, got ${o.lr}`);
  if (!(o.momentum >= 0 && o.momentum < 1)) fail(`${where}.momentum`, `must be in [0, 1), got ${o.momentum}`);
  if (!(o.weightDecay >= 0)) fail(`${where}.weightDecay`, `must be >= 0, got ${o.weightDecay}`);
  if (o.nesterov && o.name === 'sgd' && o.momentum <= 0) fail(`${where}.nesterov`, 'needs momentum > 0');
  if (o.trainTop !== 'all' && !(Number.isInteger(o.trainTop) && o.trainTop > 0)) fail(`${where}.trainTop`, `must be 'all' or a positive integer, got ${o.trainTop}`);
}

/** Throws an Error naming the first invalid field. */
export function validateConfig(c: TrainConfig): void {
  const posInt = (k: keyof TrainConfig, min = 1) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) fail(k, `must be an integer >= ${min}, got ${v}`);
  };
  posInt('epochs'); posInt('batchSize'); posInt('limit', 0); posInt('valLimit', 0); posInt('threads', 0); posInt('workers', 0); posInt('checkpointEvery', 0);
  posInt('worldSize');
  if (typeof c.syncBn !== 'boolean') fail('syncBn', `must be true or false, got ${JSON.stringify(c.syncBn)}`);
  posInt('warmup', 0); posInt('period'); posInt('phaseMin', 0); posInt('cropPadding', 0);
  if (c.canvas !== undefined && !(Number.isInteger(c.canvas) && c.canvas > 0)) fail('canvas', `must be a positive integer, got ${c.canvas}`);
  if (c.distractors !== undefined && !(Number.isInteger(c.distractors) && c.distractors >= 0)) fail('distractors', `must be a non-negative integer, got ${c.distractors}`);
  if ((c.canvas !== undefined || c.distractors !== undefined) && !c.dataset.startsWith('cluttered-')) fail(c.canvas !== undefined ? 'canvas' : 'distractors', `(--${c.canvas !== undefined ? 'canvas' : 'distractors'}) applies only to the cluttered-* datasets, not to ${c.dataset}`);
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) fail('seed', `must be a non-negative integer, got ${c.seed}`);
  if (c.strategy !== 'std' && c.strategy !== 'csg') fail('strategy', `must be std or csg, got ${JSON.stringify(c.strategy)}`);
  if (c.phaseMin > c.period) fail('phaseMin', `(${c.phaseMin}) must be <= period (${c.period})`);
  if (!(c.lambda >= 0)) fail('lambda', `must be >= 0, got ${c.lambda}`);
  if (!(c.rho > 0 && c.rho <= 1)) fail('rho', `must be in (0, 1], got ${c.rho}`);
  if (!(c.gateInit > 0 && c.gateInit <= 1)) fail('gateInit', `must be in (0, 1], got ${c.gateInit}`);
  if (!(c.valFraction >= 0 && c.valFraction < 1)) fail('valFraction', `must be in [0, 1), got ${c.valFraction}`);
  if (!(c.gamma > 0 && c.gamma <= 1)) fail('gamma', `must be in (0, 1], got ${c.gamma}`);
  for (const m of c.milestones) if (!(m > 0 && m < 1)) fail('milestones', `must be fractions in (0, 1), got ${c.milestones}`);
  if (!AUGMENT_MODES.includes(c.augment)) fail('augment', `must be ${AUGMENT_MODES.join(' or ')}, got ${JSON.stringify(c.augment)}`);
  if (c.memoryFormat !== 'contiguous_format' && c.memoryFormat !== 'channels_last') fail('memoryFormat', `must be contiguous_format or channels_last, got ${c.memoryFormat}`);
  checkOptimizer('std', c.std);
  checkOptimizer('csg', c.csg);
  if (c.gate) checkOptimizer('gate', c.gate);
}
