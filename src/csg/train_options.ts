// The options of `csgnet train`, one row each: its flag, the config key it sets, its type, default,
// help text and rules. The CLI's train flags (src/cli/commands/train.ts), the configuration they make
// (configFromOptions), what a resumed run may change (RESUMABLE_KEYS, RESUME_FLAGS) and the sweep's
// grid keys (src/app/sweep.ts SWEEP_KEYS) all come from this table: a new option is one row.
// Loads no libtorch (the CLI reads it at startup).
import { PRESETS, type TrainConfig } from './config.js';
import { MODEL_NAMES } from '../models/names.js';
import { KNOWN_DATASETS } from '../data/names.js';
import { AUGMENT_MODES } from '../data/batch.js';
import { CLUTTER_DEFAULTS } from '../data/cluttered.js';

/** How a flag's value is read (the CLI turns each into a parser whose error names the flag). */
export type OptionType =
  | { kind: 'int'; min: number }
  | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: 'choice'; choices: readonly string[] }
  | { kind: 'string' }
  /** A switch; `--no-x` alone is one that defaults to true. `no` adds a `--no-x` beside `--x` (its help). */
  | { kind: 'bool'; no?: string }
  | { kind: 'numList' }
  /** 'all' or an integer >= 1. */
  | { kind: 'trainTop' };

export type OptionValue = number | string | boolean | number[];

export interface TrainOption {
  /** Commander's syntax: '--epochs <n>', '--no-hflip'. */
  flag: string;
  help: string;
  type: OptionType;
  /** The flag's own default (shown in --help). Without one the preset's value, if any, stands. */
  default?: string | number;
  required?: true;
  /** Left out of --help (a flag for tools, e.g. the sweep's flag check). */
  hidden?: true;
  /** The config key the value is stored in as is; options setting several fields have `set` instead. */
  key?: keyof TrainConfig;
  set?: (c: TrainConfig, v: any) => void;
  /** The config's value, for the options a sweep may vary (plain `key` options read it directly). */
  get?: (c: TrainConfig) => number | string | boolean | undefined;
  /** Why the option cannot apply to this configuration (checked by `train` before `set`), if it cannot. */
  refuse?: (c: TrainConfig) => string | undefined;
  /** `train --resume` accepts it: the trainer's overrides (with `key`) or the call's own settings. */
  resumable?: true;
  /** Only CSG training reads it (the gate, its loss, its schedule): an STD run ignores it. */
  csgOnly?: true;
  /** A sweep grid may vary it (csgnet sweep --grid, compare --group-by). */
  sweep?: true;
}

const int = (min: number): OptionType => ({ kind: 'int', min });
const num = (o: { min?: number; max?: number; exclusiveMin?: boolean }): OptionType => ({ kind: 'number', ...o });
const choice = (choices: readonly string[]): OptionType => ({ kind: 'choice', choices });
const str: OptionType = { kind: 'string' };
const bool: OptionType = { kind: 'bool' };
const OPTIMIZERS = ['sgd', 'adam', 'adamw'];
const PROGRESS = ['auto', 'plain', 'none'];

/** Sets a field of both network paths' optimizers. */
const bothPaths = <K extends 'momentum' | 'nesterov' | 'weightDecay' | 'name'>(k: K) => (c: TrainConfig, v: TrainConfig['std'][K]) => { c.std[k] = v; c.csg[k] = v; };

/** In --help order. */
export const TRAIN_OPTIONS = [
  { flag: '--out <dir>', help: 'run folder', type: str, required: true, resumable: true },
  { flag: '--preset <name>', help: 'recipe the other flags override', type: choice(Object.keys(PRESETS)), default: 'cifar', key: 'preset' },
  { flag: '--dataset <name>', help: 'dataset', type: choice(KNOWN_DATASETS), key: 'dataset', sweep: true },
  { flag: '--data-root <dir>', help: 'data folder (Fashion-MNIST defaults to /usr/share/datasets/fashion-mnist)', type: str, key: 'dataRoot' },
  { flag: '--model <name>', help: 'architecture', type: choice(MODEL_NAMES), key: 'model', sweep: true },
  { flag: '--strategy <s>', help: 'std, or csg (gated epochs)', type: choice(['std', 'csg']), key: 'strategy', sweep: true },
  { flag: '--epochs <n>', help: 'epochs', type: int(1), key: 'epochs', resumable: true, sweep: true },
  { flag: '--batch <n>', help: 'batch size', type: int(1), key: 'batchSize', sweep: true },
  { flag: '--limit <n>', help: 'use only the first N training images (0 = all)', type: int(0), key: 'limit', sweep: true },
  { flag: '--val-limit <n>', help: 'use only the first N validation images (0 = all)', type: int(0), key: 'valLimit' },
  { flag: '--val-fraction <f>', help: 'hold out this fraction of train for validation (0 = validate on test)', type: num({ min: 0, max: 0.99 }), key: 'valFraction' },
  { flag: '--seed <n>', help: 'seed for init, shuffling and augmentation', type: int(0), key: 'seed' },
  { flag: '--threads <n>', help: 'intra-op threads (0 = libtorch default)', type: int(0), key: 'threads', resumable: true },
  { flag: '--workers <n>', help: 'threads preparing batches ahead of compute (0 = between steps; helps with large images or a GPU)', type: int(0), key: 'workers', resumable: true },
  { flag: '--memory-format <f>', help: 'activation layout', type: choice(['contiguous_format', 'channels_last']), key: 'memoryFormat' },
  { flag: '--crop-padding <n>', help: 'random crop padding in pixels (0 = off)', type: int(0), key: 'cropPadding', sweep: true },
  { flag: '--no-hflip', help: 'disable random horizontal flips', type: bool, key: 'hflip', sweep: true },
  { flag: '--augment <mode>', help: 'one crop offset and flip per image, or per batch (the PyTorch reference script)', type: choice(AUGMENT_MODES), key: 'augment', sweep: true },
  { flag: '--image-size <n>', help: 'resize image-folder data to N x N', type: int(1), key: 'imageSize' },
  { flag: '--canvas <n>', help: `cluttered-* datasets: canvas side (default ${CLUTTER_DEFAULTS.canvas})`, type: int(1), key: 'canvas' },
  { flag: '--distractors <n>', help: `cluttered-* datasets: 8x8 distractors per image (default ${CLUTTER_DEFAULTS.distractors})`, type: int(0), key: 'distractors' },
  { flag: '--pretrained <file>', help: 'backbone weights (.safetensors, torchvision names)', type: str, key: 'pretrained' },
  { flag: '--lambda <x>', help: 'weight of the gate sparsity hinge', type: num({ min: 0 }), key: 'lambda', csgOnly: true, sweep: true },
  { flag: '--rho <x>', help: 'target gate density', type: num({ min: 0, max: 1, exclusiveMin: true }), key: 'rho', csgOnly: true, sweep: true },
  { flag: '--warmup <n>', help: 'STD-only epochs first', type: int(0), key: 'warmup', csgOnly: true, sweep: true },
  { flag: '--period <n>', help: 'schedule period (epochs)', type: int(1), key: 'period', csgOnly: true, sweep: true },
  { flag: '--phase-min <n>', help: 'epoch e is CSG when e % period >= phase-min', type: int(0), key: 'phaseMin', csgOnly: true, sweep: true },
  { flag: '--allow-no-csg', help: '--strategy csg: train even when --epochs reaches no CSG epoch (the gate then stays untrained)', type: bool },
  { flag: '--gate-init <x>', help: 'initial gate value', type: num({ min: 0, max: 1, exclusiveMin: true }), key: 'gateInit', csgOnly: true, sweep: true },
  { flag: '--optimizer <name>', help: 'network optimizer', type: choice(OPTIMIZERS), sweep: true,
    get: (c) => c.std.name, set: bothPaths('name') },
  { flag: '--csg-optimizer <name>', help: 'CSG-path optimizer (with --separate-path-optimizers)', type: choice(OPTIMIZERS),
    set: (c, v) => { c.csg.name = v; } },
  { flag: '--lr <x>', help: 'learning rate (STD path, or both with one optimizer)', type: num({ min: 0, exclusiveMin: true }), sweep: true,
    get: (c) => c.std.lr, set: (c, v) => { c.std.lr = v; if (!c.separatePathOptimizers) c.csg.lr = v; } },
  { flag: '--csg-lr <x>', help: 'CSG-path learning rate (with --separate-path-optimizers)', type: num({ min: 0, exclusiveMin: true }), csgOnly: true, sweep: true,
    get: (c) => c.csg.lr, set: (c, v) => { c.csg.lr = v; } },
  { flag: '--momentum <x>', help: 'SGD momentum', type: num({ min: 0, max: 0.999 }), sweep: true,
    get: (c) => c.std.momentum, set: bothPaths('momentum') },
  { flag: '--nesterov', help: 'Nesterov momentum', type: { kind: 'bool', no: 'plain momentum' }, set: bothPaths('nesterov') },
  { flag: '--weight-decay <x>', help: 'weight decay', type: num({ min: 0 }), sweep: true,
    get: (c) => c.std.weightDecay, set: bothPaths('weightDecay') },
  { flag: '--separate-path-optimizers', help: 'one optimizer and scheduler per path (the released VOC Part code)', type: bool, key: 'separatePathOptimizers' },
  { flag: '--std-train-top <n|all>', help: 'train only the top N children of the model on STD epochs', type: { kind: 'trainTop' },
    set: (c, v) => { c.std.trainTop = v; } },
  { flag: '--csg-train-top <n|all>', help: 'train only the top N children on CSG epochs', type: { kind: 'trainTop' },
    set: (c, v) => { c.csg.trainTop = v; } },
  { flag: '--gate-optimizer <name>', help: "the gate's own optimizer, or none to put G in the CSG optimizer", type: choice(['sgd', 'adam', 'none']),
    set: (c, v) => { c.gate = v === 'none' ? null : { name: v, lr: 0.1, momentum: v === 'sgd' ? 0.9 : 0, nesterov: false, weightDecay: 0, trainTop: 'all' }; } },
  { flag: '--gate-lr <x>', help: "the gate optimizer's learning rate", type: num({ min: 0, exclusiveMin: true }), csgOnly: true, sweep: true,
    refuse: (c) => (c.gate ? undefined : '--gate-lr needs a gate optimizer (--gate-optimizer sgd|adam); with none, G uses the CSG optimizer (--csg-lr)'),
    get: (c) => c.gate?.lr, set: (c, v) => { if (c.gate) c.gate.lr = v; } },
  { flag: '--milestones <fractions>', help: 'MultiStepLR milestones as fractions of the epochs, e.g. 0.5,0.75', type: { kind: 'numList' }, key: 'milestones' },
  { flag: '--gamma <x>', help: 'MultiStepLR gamma', type: num({ min: 0, max: 1, exclusiveMin: true }), key: 'gamma', sweep: true },
  { flag: '--checkpoint-every <n>', help: 'also save a checkpoint every N batches inside an epoch (0 = every 5 minutes of training)', type: int(0), key: 'checkpointEvery', resumable: true },
  { flag: '--progress <mode>', help: 'progress display', type: choice(PROGRESS), default: 'auto', resumable: true },
  { flag: '--resume', help: 'continue the run in --out from its last checkpoint (with --epochs N to extend a finished run)', type: bool, resumable: true },
  { flag: '--stop-after <n>', help: 'stop (with a checkpoint) after N epochs of this call', type: int(1), resumable: true },
  { flag: '--nproc <n>', help: 'data parallel: start N training processes on this machine (DistributedDataParallel semantics; --batch is per process, --threads per process)', type: int(1), resumable: true },
  { flag: '--sync-bn', help: 'data parallel: BatchNorm batch statistics over all processes (nn.SyncBatchNorm)', type: bool, key: 'syncBn' },
  { flag: '--dist-timeout <s>', help: 'data parallel: seconds a rank waits for the others (rendezvous and each collective) before failing', type: int(1), default: 1800, resumable: true },
  // csgnet sweep checks its train flags with this parser before any run starts.
  { flag: '--check-flags', help: 'check the flags and the configuration they make, then exit without training', type: bool, hidden: true },
] as const satisfies readonly TrainOption[];

/** '--no-hflip <x>' -> '--no-hflip' (what argv holds). */
export const longFlag = (o: Pick<TrainOption, 'flag'>): string => o.flag.split(' ')[0]!;

/** The name commander stores the value under: '--val-limit' -> valLimit, '--no-hflip' -> hflip. */
export const optionName = (o: Pick<TrainOption, 'flag'>): string =>
  longFlag(o).replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());

type Row = (typeof TRAIN_OPTIONS)[number];
export type ResumableKey = Extract<Row, { resumable: true; key: string }>['key'];
export type ResumeOverrides = Partial<Pick<TrainConfig, ResumableKey>>;

const rows: readonly TrainOption[] = TRAIN_OPTIONS;

/** Settings a resumed run may change; everything else is the run's own. */
export const RESUMABLE_KEYS = rows.filter((o) => o.resumable && o.key).map((o) => o.key as ResumableKey);

/** Flags `train --resume` accepts: the run folder, and the settings a continued run may change. */
export const RESUME_FLAGS = rows.filter((o) => o.resumable).map(longFlag);

/** The resumable config values of parsed train options (undefined where not given). */
export function resumeOverrides(values: Record<string, unknown>): ResumeOverrides {
  return Object.fromEntries(rows.filter((o) => o.resumable && o.key).map((o) => [o.key, values[optionName(o)]]));
}

/**
 * The configuration parsed train options make: the preset, then every option given (those storing one
 * field first, then the others in table order: --lr reads --separate-path-optimizers, --gate-lr the gate).
 */
export function configFromOptions(values: Record<string, unknown>): TrainConfig {
  const c: TrainConfig = structuredClone(PRESETS[String(values.preset ?? 'cifar')]!);
  const given = (o: TrainOption) => values[optionName(o)] !== undefined;
  for (const o of rows) if (o.key && given(o)) (c as any)[o.key] = values[optionName(o)];
  for (const o of rows) {
    if (!o.set || !given(o)) continue;
    const why = o.refuse?.(c);
    if (why) throw new Error(why);
    o.set(c, values[optionName(o)]);
  }
  return c;
}
