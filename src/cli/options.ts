// Flag parsers that reject bad values with a message naming the flag (commander's InvalidArgumentError).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SERVER_HOST } from '../app/defaults.js';
import { ATTRIBUTION_DEFAULTS as A, IG_BASELINES } from '../explain/attribution_defaults.js';

export function int(min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${v}'`);
    return n;
  };
}

/** A TCP port: 0 (any free one) to 65535. */
export function port(v: string): number {
  const n = int(0)(v);
  if (n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${v}'`);
  return n;
}

/** The shared server flags of `dashboard` and `explore`. */
export function addServerOptions(cmd: Command, what: string, defaultPort: number): Command {
  return cmd
    .option('--host <addr>', `address to listen on (default loopback; another one shares the ${what} with the network and needs --allow-remote)`, SERVER_HOST)
    .option('--allow-remote', `confirm a --host other than loopback: anyone who can reach this machine sees the ${what} (there is no login)`)
    .option('--port <n>', 'port (0 = any free one)', port, defaultPort);
}

/** The warning a shared server prints on stderr. */
export const sharedWarning = (what: string, url: string) =>
  `csgnet: warning: the ${what} at ${url} is shared with the network (--allow-remote): anyone who can reach this machine can read it\n`;

export function num(opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${v}'`);
    if (opts.min !== undefined && (opts.exclusiveMin ? n <= opts.min : n < opts.min)) throw new InvalidArgumentError(`expected a number ${opts.exclusiveMin ? '>' : '>='} ${opts.min}, got '${v}'`);
    if (opts.max !== undefined && n > opts.max) throw new InvalidArgumentError(`expected a number <= ${opts.max}, got '${v}'`);
    return n;
  };
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Comma-separated decimal numbers ('0.1,0.2'); an empty item, hex ('0x10') or anything else is refused. */
export function numList(v: string): number[] {
  const items = v.split(',').map((s) => s.trim());
  const bad = items.find((s) => !DECIMAL.test(s));
  if (bad !== undefined) throw new InvalidArgumentError(`expected comma-separated decimal numbers, got '${v}' (${bad === '' ? 'an empty item' : `'${bad}'`})`);
  return items.map(Number);
}

/** A parser of a non-empty comma-separated list drawn from `allowed`, each name at most once. */
export function nameList(allowed: readonly string[]) {
  return (v: string): string[] => {
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    if (!items.length) throw new InvalidArgumentError(`expected at least one of ${allowed.join(', ')} (comma-separated), got '${v}'`);
    const bad = items.filter((s) => !allowed.includes(s));
    if (bad.length) throw new InvalidArgumentError(`unknown ${bad.join(', ')}; choose from ${allowed.join(', ')}`);
    if (new Set(items).size !== items.length) throw new InvalidArgumentError(`'${v}' names one twice`);
    return items;
  };
}

/** "3x32x32" -> [3, 32, 32] */
export function shapeArg(v: string): number[] {
  const parts = v.toLowerCase().split('x').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError(`expected CxHxW such as 3x32x32, got '${v}'`);
  return parts;
}

export function trainTop(v: string): 'all' | number {
  if (v === 'all') return 'all';
  return int(1)(v);
}

/** --threads, declared once for every computing command; a preAction hook in main.ts applies it
 *  (src/torch/threads.ts: now if libtorch is loaded, else when it loads). */
export function threadsOption(description = 'intra-op threads of libtorch (0 = every core, or OMP_NUM_THREADS when set)'): Option {
  return new Option('--threads <n>', description).argParser(int(0));
}

/**
 * The options of every command that reads a run, declared once: --run and --checkpoint, and with
 * `images` also --split and --limit (which images of the run's dataset to use).
 */
export function addRunOptions(cmd: Command, o: { images?: boolean; limit?: string } = {}): Command {
  cmd.addOption(new Option('--run <dir>', 'run folder').makeOptionMandatory());
  cmd.addOption(new Option('--checkpoint <which>', 'last, best or a checkpoint file').default('last'));
  if (o.images) {
    cmd.addOption(splitOption());
    cmd.addOption(new Option('--limit <n>', o.limit ?? 'only the first N images').argParser(int(0)));
  }
  return cmd;
}

/** --split: which part of the run's dataset (val is the held-out part of train, or test). */
export function splitOption(): Option {
  return new Option('--split <s>', "split (val: the run's --val-fraction hold-out; an error when it was trained without one)").choices(['test', 'train', 'val']).default('test');
}

/** --progress: a bar with ETA on a TTY, plain periodic lines otherwise, or nothing (src/cli/progress.ts). */
export function progressOption(): Option {
  return new Option('--progress <mode>', 'progress display').choices(['auto', 'plain', 'none']).default('auto');
}

/** The input attributions' flags (saliency, ig, smoothgrad, occlusion), for every command that builds them. */
export function addAttributionOptions(cmd: Command): Command {
  return cmd
    .option('--ig-steps <n>', `ig: points on the path, Riemann trapezoid as Captum (default ${A.igSteps})`, int(2))
    .addOption(new Option('--ig-baseline <b>', `ig: the baseline, zeros or the image blurred (default ${A.igBaseline})`).choices([...IG_BASELINES]))
    .option('--ig-blur-sigma <px>', "ig: the blurred baseline's sigma in pixels (default min(H, W) / 8)", num({ min: 0, exclusiveMin: true }))
    .option('--smoothgrad-samples <n>', `smoothgrad: noisy copies per image (default ${A.smoothgradSamples})`, int(1))
    .option('--smoothgrad-noise <sd>', `smoothgrad: the noise's standard deviation in normalized input units (default ${A.smoothgradNoise})`, num({ min: 0 }))
    .option('--smoothgrad-seed <n>', `smoothgrad: seeds torch's generator for the noise (default ${A.smoothgradSeed})`, int(0))
    .option('--occlusion-window <px>', `occlusion: the window's side (default ${A.occlusionWindow})`, int(1))
    .option('--occlusion-stride <px>', `occlusion: the step between windows, at most the window (default ${A.occlusionStride})`, int(1));
}

/** The parsed flags of addAttributionOptions as the library's AttributionSettings (unset: the method's default). */
export function attributionSettings(o: Record<string, unknown>): Record<string, unknown> {
  const keys = ['igSteps', 'igBaseline', 'igBlurSigma', 'smoothgradSamples', 'smoothgradNoise', 'smoothgradSeed', 'occlusionWindow', 'occlusionStride'];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
