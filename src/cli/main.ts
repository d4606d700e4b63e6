#!/usr/bin/env node
// The csgnet command line: train, eval, features, gate, bench, demo, info (and the analysis commands).
// Startup loads no libtorch (and no other native addon): the modules that compute are imported inside
// the actions that need them, so --help, --version, mis and compare on analysed runs start at Node's speed.
import { Command, Option } from 'commander';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stderrNote as note } from './format.js';
import { addRunOptions, int, nameList, num, numList, shapeArg, splitOption, threadsOption, trainTop } from './options.js';
import { PRESETS, validateConfig, type TrainConfig } from '../csg/config.js';
import { MODEL_NAMES } from '../models/names.js';
import { KNOWN_DATASETS } from '../data/names.js';
import { useNumThreads } from '../torch/threads.js';
import { packageRoot } from '../util/paths.js';
import { registerAdversarial } from './adversarial.js';

/** localize's method ids (src/app/localize.ts LOCALIZE_METHODS; not imported here, it loads libtorch). */
const LOCALIZE_IDS = ['cam', 'gradcam', 'gradcampp', 'csgcam', 'activmap', 'gradmap'];
import { registerDashboard } from './dashboard.js';
import { registerReport } from './report.js';
import { registerExportCommand } from './export.js';
import { registerExplore } from './explore.js';
import { registerSweep } from './sweep.js';

const program = new Command();
program.name('csgnet').description('Interpretable CNNs with class-specific gates (CSG), trained over libtorch')
  .version(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version, '-V, --version', 'print the csgnet version')
  .showHelpAfterError('(run with --help for usage)');
// --threads N on any command: libtorch's intra-op threads, set when (and if) the action loads libtorch.
program.hook('preAction', (_program, command) => {
  const n = command.opts().threads;
  if (typeof n === 'number' && n > 0) useNumThreads(n);
});

/** Flags `train --resume` accepts: the run folder, and the settings a continued run may change. */
const RESUME_FLAGS = ['--out', '--resume', '--epochs', '--threads', '--workers', '--checkpoint-every', '--progress', '--stop-after', '--nproc', '--dist-timeout'];

function buildConfig(o: any): TrainConfig {
  const base: TrainConfig = structuredClone(PRESETS[o.preset]);
  const c = base;
  const set = <K extends keyof TrainConfig>(k: K, v: TrainConfig[K] | undefined) => { if (v !== undefined) c[k] = v; };
  set('dataset', o.dataset); set('dataRoot', o.dataRoot); set('model', o.model); set('strategy', o.strategy);
  set('epochs', o.epochs); set('batchSize', o.batch); set('limit', o.limit); set('valLimit', o.valLimit);
  set('valFraction', o.valFraction); set('seed', o.seed); set('threads', o.threads); set('workers', o.workers); set('checkpointEvery', o.checkpointEvery); set('memoryFormat', o.memoryFormat);
  set('cropPadding', o.cropPadding); set('hflip', o.hflip); set('augment', o.augment); set('imageSize', o.imageSize); set('pretrained', o.pretrained);
  set('canvas', o.canvas); set('distractors', o.distractors);
  set('lambda', o.lambda); set('rho', o.rho); set('warmup', o.warmup); set('period', o.period); set('phaseMin', o.phaseMin);
  set('gateInit', o.gateInit); set('milestones', o.milestones); set('gamma', o.gamma);
  set('separatePathOptimizers', o.separatePathOptimizers);
  set('syncBn', o.syncBn);
  if (o.optimizer) { c.std.name = o.optimizer; c.csg.name = o.optimizer; }
  if (o.csgOptimizer) c.csg.name = o.csgOptimizer;
  if (o.lr !== undefined) { c.std.lr = o.lr; if (!c.separatePathOptimizers) c.csg.lr = o.lr; }
  if (o.csgLr !== undefined) c.csg.lr = o.csgLr;
  if (o.momentum !== undefined) { c.std.momentum = o.momentum; c.csg.momentum = o.momentum; }
  if (o.nesterov !== undefined) { c.std.nesterov = o.nesterov; c.csg.nesterov = o.nesterov; }
  if (o.weightDecay !== undefined) { c.std.weightDecay = o.weightDecay; c.csg.weightDecay = o.weightDecay; }
  if (o.stdTrainTop !== undefined) c.std.trainTop = o.stdTrainTop;
  if (o.csgTrainTop !== undefined) c.csg.trainTop = o.csgTrainTop;
  if (o.gateOptimizer === 'none') c.gate = null;
  else if (o.gateOptimizer) c.gate = { name: o.gateOptimizer, lr: 0.1, momentum: o.gateOptimizer === 'sgd' ? 0.9 : 0, nesterov: false, weightDecay: 0, trainTop: 'all' };
  if (o.gateLr !== undefined) {
    if (!c.gate) throw new Error('--gate-lr needs a gate optimizer (--gate-optimizer sgd|adam); with none, G uses the CSG optimizer (--csg-lr)');
    c.gate.lr = o.gateLr;
  }
  if (c.preset !== o.preset) c.preset = o.preset;
  return c;
}

program.command('train').description('train an STD or CSG model; writes RUN_DIR/{config.json,metrics.jsonl,events.jsonl,checkpoints/}')
  .requiredOption('--out <dir>', 'run folder')
  .addOption(new Option('--preset <name>', 'recipe the other flags override').choices(['cifar', 'voc-part']).default('cifar'))
  .addOption(new Option('--dataset <name>', 'dataset').choices([...KNOWN_DATASETS]))
  .option('--data-root <dir>', 'data folder (Fashion-MNIST defaults to /usr/share/datasets/fashion-mnist)')
  .addOption(new Option('--model <name>', 'architecture').choices([...MODEL_NAMES]))
  .addOption(new Option('--strategy <s>', 'std, or csg (gated epochs)').choices(['std', 'csg']))
  .option('--epochs <n>', 'epochs', int(1))
  .option('--batch <n>', 'batch size', int(1))
  .option('--limit <n>', 'use only the first N training images (0 = all)', int(0))
  .option('--val-limit <n>', 'use only the first N validation images (0 = all)', int(0))
  .option('--val-fraction <f>', 'hold out this fraction of train for validation (0 = validate on test)', num({ min: 0, max: 0.99 }))
  .option('--seed <n>', 'seed for init, shuffling and augmentation', int(0))
  .option('--threads <n>', 'intra-op threads (0 = libtorch default)', int(0))
  .option('--workers <n>', 'threads preparing batches ahead of compute (0 = between steps; helps with large images or a GPU)', int(0))
  .addOption(new Option('--memory-format <f>', 'activation layout').choices(['contiguous_format', 'channels_last']))
  .option('--crop-padding <n>', 'random crop padding in pixels (0 = off)', int(0))
  .option('--no-hflip', 'disable random horizontal flips')
  .addOption(new Option('--augment <mode>', 'one crop offset and flip per image, or per batch (the PyTorch reference script)').choices(['per-sample', 'per-batch']))
  .option('--image-size <n>', 'resize image-folder data to N x N', int(1))
  .option('--canvas <n>', 'cluttered-* datasets: canvas side (default 64)', int(1))
  .option('--distractors <n>', 'cluttered-* datasets: 8x8 distractors per image (default 6)', int(0))
  .option('--pretrained <file>', 'backbone weights (.safetensors, torchvision names)')
  .option('--lambda <x>', 'weight of the gate sparsity hinge', num({ min: 0 }))
  .option('--rho <x>', 'target gate density', num({ min: 0, max: 1, exclusiveMin: true }))
  .option('--warmup <n>', 'STD-only epochs first', int(0))
  .option('--period <n>', 'schedule period (epochs)', int(1))
  .option('--phase-min <n>', 'epoch e is CSG when e % period >= phase-min', int(0))
  .option('--allow-no-csg', '--strategy csg: train even when --epochs reaches no CSG epoch (the gate then stays untrained)')
  .option('--gate-init <x>', 'initial gate value', num({ min: 0, max: 1, exclusiveMin: true }))
  .addOption(new Option('--optimizer <name>', 'network optimizer').choices(['sgd', 'adam', 'adamw']))
  .addOption(new Option('--csg-optimizer <name>', 'CSG-path optimizer (with --separate-path-optimizers)').choices(['sgd', 'adam', 'adamw']))
  .option('--lr <x>', 'learning rate (STD path, or both with one optimizer)', num({ min: 0, exclusiveMin: true }))
  .option('--csg-lr <x>', 'CSG-path learning rate (with --separate-path-optimizers)', num({ min: 0, exclusiveMin: true }))
  .option('--momentum <x>', 'SGD momentum', num({ min: 0, max: 0.999 }))
  .option('--nesterov', 'Nesterov momentum').option('--no-nesterov', 'plain momentum')
  .option('--weight-decay <x>', 'weight decay', num({ min: 0 }))
  .option('--separate-path-optimizers', 'one optimizer and scheduler per path (the released VOC Part code)')
  .option('--std-train-top <n|all>', 'train only the top N children of the model on STD epochs', trainTop)
  .option('--csg-train-top <n|all>', 'train only the top N children on CSG epochs', trainTop)
  .addOption(new Option('--gate-optimizer <name>', "the gate's own optimizer, or none to put G in the CSG optimizer").choices(['sgd', 'adam', 'none']))
  .option('--gate-lr <x>', "the gate optimizer's learning rate", num({ min: 0, exclusiveMin: true }))
  .option('--milestones <fractions>', 'MultiStepLR milestones as fractions of the epochs, e.g. 0.5,0.75', numList)
  .option('--gamma <x>', 'MultiStepLR gamma', num({ min: 0, max: 1, exclusiveMin: true }))
  .option('--checkpoint-every <n>', 'also save a checkpoint every N batches inside an epoch (0 = every 5 minutes of training)', int(0))
  .option('--resume', 'continue the run in --out from its last checkpoint (with --epochs N to extend a finished run)')
  .option('--stop-after <n>', 'stop (with a checkpoint) after N epochs of this call', int(1))
  .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'plain', 'none']).default('auto'))
  .option('--nproc <n>', 'data parallel: start N training processes on this machine (DistributedDataParallel semantics; --batch is per process, --threads per process)', int(1))
  .option('--sync-bn', 'data parallel: BatchNorm batch statistics over all processes (nn.SyncBatchNorm)')
  .option('--dist-timeout <s>', 'data parallel: seconds a rank waits for the others (rendezvous and each collective) before failing', int(1), 1800)
  // csgnet sweep checks its train flags with this parser before any run starts.
  .addOption(new Option('--check-flags', 'check the flags and the configuration they make, then exit without training').hideHelp())
  .action(async (o, cmd: Command) => {
    // Before any work (and before --nproc starts ranks): a CSG run whose schedule never gates is refused.
    const { noCsgEpochReason } = await import('../csg/schedule.js');
    const planned = o.resume ? null : buildConfig(o);
    const noCsg = planned && noCsgEpochReason(planned.epochs, planned);
    if (noCsg && !o.allowNoCsg) throw new Error(`${noCsg}; train more epochs, or pass --allow-no-csg to train it anyway`);
    if (o.checkFlags) {
      if (planned) validateConfig(planned);
      return;
    }
    const { distributedEnv } = await import('../app/launch.js');
    const denv = distributedEnv(process.env);
    if (o.nproc > 1) {
      if (denv) throw new Error(`--nproc ${o.nproc} starts its own processes, but this process is already rank ${denv.rank} of ${denv.worldSize} (${denv.source === 'slurm' ? 'SLURM_NTASKS' : 'WORLD_SIZE'} is set); use one or the other`);
      const { launchTrain } = await import('./launch.js');
      process.exitCode = await launchTrain(o.nproc, cmd.getOptionValueSource('threads') === 'cli');
      return;
    }
    const { trainRank } = await import('./launch.js');
    await trainRank(denv, o.distTimeout, async (group, rankLog) => {
    const { Trainer, combineEvents } = await import('../csg/trainer.js');
    const { eventsLog } = await import('../csg/events_log.js');
    const { progressEvents } = await import('./progress.js');
    const { onStopSignals } = await import('./signals.js');
    const log = rankLog;
    const leader = !group || group.rank === 0;
    let trainer;
    if (o.resume) {
      // A resumed run keeps its configuration: flags that may change are applied, the rest refused by name.
      const given = cmd.options.filter((opt) => cmd.getOptionValueSource(opt.attributeName()) === 'cli');
      const refused = given.filter((opt) => !RESUME_FLAGS.includes(opt.long!)).map((opt) => opt.long);
      if (refused.length) {
        throw new Error(`--resume continues the run with its own configuration; ${refused.join(', ')} cannot change ` +
          `(allowed with --resume: ${RESUME_FLAGS.filter((f) => f !== '--out' && f !== '--resume').join(', ')})`);
      }
      trainer = await Trainer.resume({ outDir: o.out, log, group, overrides: { epochs: o.epochs, threads: o.threads, workers: o.workers, checkpointEvery: o.checkpointEvery } });
      if (trainer.epoch >= trainer.config.epochs) {
        trainer.close();
        log(`${o.out}: the run is finished (${trainer.epoch}/${trainer.config.epochs} epochs); nothing to do (--resume --epochs N extends it)`);
        return;
      }
      log(`resuming ${o.out} at epoch ${trainer.epoch}, batch ${trainer.nextBatch} of ${trainer.config.epochs} epochs`);
    } else {
      if (noCsg && leader) log(`warning (--allow-no-csg): ${noCsg}`);
      trainer = await Trainer.create({ ...buildConfig(o), worldSize: group?.worldSize ?? 1 }, { outDir: o.out, log, group });
    }
    // A rank started by `--nproc` gets the terminal's Ctrl-C and the launcher's copy of it: one request.
    const stop = onStopSignals(log, { repeatWindowMs: process.env.CSGNET_LAUNCHED ? 2000 : 0 });
    try {
      // The progress display and RUN_DIR/events.jsonl (what `csgnet dashboard` follows) watch the same events.
      const events = leader ? combineEvents(progressEvents(o.progress, log), eventsLog(trainer.runDir, { log })) : {};
      const r = await trainer.run({ stopAfterEpochs: o.stopAfter, signal: stop.signal, events });
      if (r.interrupted) process.exitCode = stop.exitCode();
    } finally {
      stop.dispose();
      trainer.close();
    }
    });
  });

addRunOptions(program.command('eval').description('accuracy, per-class accuracy, confusion matrix and gate density of a run (STD path)'),
  { images: true, limit: 'evaluate only the first N images' })
  .addOption(threadsOption())
  .option('--json', 'print JSON')
  .action(async (o) => {
    const { openRun, runDataset, evaluateRun } = await import('../csg/run.js');
    const run = openRun(o.run, o.checkpoint);
    const ds = await runDataset(run, o.split, { log: note });
    const ev = evaluateRun(run, ds, o.limit);
    const out = { run: o.run, checkpoint: run.checkpoint, epoch: run.epoch, split: o.split, model: run.config.model, strategy: run.config.strategy,
      accuracy: ev.accuracy, per_class_accuracy: ev.perClassAccuracy, confusion: ev.confusion, density: ev.density, n: ev.n, classes: run.dataset.classes };
    if (o.json) { console.log(JSON.stringify(out)); return; }
    const { formatEvaluation } = await import('./format.js');
    console.log(formatEvaluation(out));
  });

addRunOptions(program.command('features').description('write GAP features of the last conv layer (STD path) as DIR/features.npy and DIR/labels.npy'), { images: true })
  .requiredOption('--out <dir>', 'output folder')
  .addOption(threadsOption())
  .action(async (o) => {
    const { openRun, runDataset, extractFeatures } = await import('../csg/run.js');
    const { writeNpy } = await import('../io/npy.js');
    const { checkOutputDir, writingOutput } = await import('../app/outputs.js');
    checkOutputDir('--out', o.out, { runs: [o.run], mode: 'add' });
    const run = openRun(o.run, o.checkpoint);
    const ds = await runDataset(run, o.split, { log: note });
    const f = extractFeatures(run.model, ds, o.limit, run.config.memoryFormat);
    await writingOutput('--out', o.out, () => {
      mkdirSync(o.out, { recursive: true });
      writeNpy(join(o.out, 'features.npy'), f.features, [f.n, f.k]);
      writeNpy(join(o.out, 'labels.npy'), BigInt64Array.from(f.labels, (v) => BigInt(v)), [f.n]);
    });
    console.log(`wrote ${join(o.out, 'features.npy')} [${f.n}, ${f.k}] float32 and ${join(o.out, 'labels.npy')} [${f.n}] int64`);
  });

addRunOptions(program.command('gate').description('show the gate G [filters x classes] and the filter-to-class assignment'))
  .addOption(threadsOption())
  .option('--json', 'print JSON')
  .action(async (o) => {
    const { openRun } = await import('../csg/run.js');
    const run = openRun(o.run, o.checkpoint);
    if (!run.gate) throw new Error(`${o.run} is an STD run (strategy std): it has no gate`);
    const g = run.gate.toArray();
    const assignment = run.gate.assignment();
    const out = { run: o.run, density: run.gate.density(), classes: run.dataset.classes, gate: g, assignment };
    if (o.json) { console.log(JSON.stringify(out)); return; }
    const { formatGate } = await import('./format.js');
    console.log(formatGate(out));
  });

program.command('bench').description('time a full training step (forward, cross-entropy, backward, SGD step)')
  .addOption(new Option('--model <name>', 'architecture').choices([...MODEL_NAMES]).default('resnet20'))
  .option('--batch <n>', 'batch size', int(1), 128)
  .option('--input <CxHxW>', 'input shape', shapeArg, [3, 32, 32])
  .option('--steps <n>', 'timed steps', int(1), 20)
  .option('--warmup <n>', 'untimed steps first', int(0), 3)
  .option('--classes <n>', 'classes', int(2), 10)
  .addOption(threadsOption().default(0))
  .addOption(new Option('--memory-format <f>', 'activation layout').choices(['contiguous_format', 'channels_last']).default('channels_last'))
  .option('--json', 'print one JSON line')
  .action(async (o) => {
    const { benchTrainStep } = await import('../bench/step.js');
    const r = benchTrainStep({ model: o.model, batch: o.batch, input: o.input, steps: o.steps, warmup: o.warmup, classes: o.classes, threads: o.threads, memoryFormat: o.memoryFormat });
    if (o.json) console.log(JSON.stringify(r));
    else console.log(`${r.model} batch ${r.batch} input ${r.input}: ${r.ms_per_step.toFixed(1)} ms/step, ${r.images_per_s.toFixed(0)} images/s (${r.threads} threads, ${r.memory_format})`);
  });

program.command('demo').description('the main job: train STD and CSG ResNet-20 on Fashion-MNIST, evaluate and compare them')
  .option('--out <dir>', 'parent folder of the two runs', 'runs/demo')
  .option('--epochs <n>', 'epochs per model (CSG epochs are 2, 5, ... with the cifar schedule)', int(1), 6)
  .option('--limit <n>', 'training images per epoch (0 = all 60000)', int(0), 10000)
  .option('--model <name>', 'architecture', 'resnet20')
  .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'plain', 'none']).default('auto'))
  .addOption(threadsOption())
  .action(async (o) => {
    const { runDemo } = await import('../app/demo.js');
    const { formatComparison } = await import('../app/compare.js');
    const { progressEvents } = await import('./progress.js');
    const { onStopSignals } = await import('./signals.js');
    const log = (s: string) => process.stderr.write(s + '\n');
    const stop = onStopSignals(log);
    try {
      const r = await runDemo({ out: o.out, epochs: o.epochs, limit: o.limit, model: o.model, log, signal: stop.signal, events: progressEvents(o.progress, log) });
      if (r.interrupted) { process.exitCode = stop.exitCode(); return; }
      console.log('\n' + formatComparison(r.rows));
      console.log(`\nRun folders: ${r.dirs.join(', ')} (csgnet eval --run DIR, csgnet gate --run DIR, csgnet analyze --run DIR --out DIR)`);
    } finally {
      stop.dispose();
    }
  });

addRunOptions(program.command('analyze').description('MIS, MI matrix, gate density, filter-class assignment and figures of a run -> DIR/analysis.json'), { images: true })
  .requiredOption('--out <dir>', 'output folder')
  .option('--n-neighbors <n>', 'kNN neighbours of the MI estimator', int(1), 3)
  .option('--balanced', 'balanced sampling of negatives (released script option)')
  .option('--normalize-columns', 'divide each column of the MI matrix by its sum (released script option)')
  .addOption(threadsOption())
  .option('--json', 'print the analysis JSON')
  .action(async (o) => {
    const { analyzeRun, writeAnalysis } = await import('../app/run_analysis.js');
    const { checkOutputDir, writingOutput } = await import('../app/outputs.js');
    const { RunDir } = await import('../csg/run_dir.js');
    checkOutputDir('--out', o.out, { runs: [o.run], mode: 'add', suggest: new RunDir(o.run, '--run').analysisDir });
    const a = await analyzeRun(o.run, { split: o.split, limit: o.limit, checkpoint: o.checkpoint, log: note,
      mi: { nNeighbors: o.nNeighbors, balanceNegatives: !!o.balanced, normalizeColumns: !!o.normalizeColumns } });
    const files = await writingOutput('--out', o.out, () => writeAnalysis(a, o.out));
    const r = a.result;
    if (o.json) { console.log(JSON.stringify(r)); return; }
    console.log(`${o.run}: MIS ${r.mis.toFixed(4)}, accuracy ${r.accuracy.toFixed(4)}` + (r.density !== null ? `, density ${r.density.toFixed(4)}` : '') +
      `, mean specificity ${r.mean_specificity.toFixed(3)}` + (r.agreement !== null ? `, gate/MI agreement ${r.agreement.toFixed(3)}` : ''));
    console.log(`filters per class (${r.assignment.gate ? 'gate' : 'MI'}): ${(r.related_filters.gate ?? r.related_filters.mi).join(' ')}`);
    console.log(`wrote ${files.join(', ')}`);
  });

addRunOptions(program.command('localize').description('localization maps of a run (CAM, Grad-CAM, Grad-CAM++, CSG-CAM, ActivMap, GradMap) scored against masks -> DIR/localization.json, overlays.png'),
  { images: true })
  .option('--out <dir>', 'output folder (default RUN/localization, where compare looks; required with --dataset)')
  .addOption(new Option('--dataset <name>', "score on this dataset with masks instead of the run's own (same channels, classes and image size)").choices([...KNOWN_DATASETS]))
  .option('--data-root <dir>', "--dataset's data folder")
  .option('--image-size <n>', "--dataset: load imagefolder / voc-part images at N x N (default the run's size); another size than the run's only when given", int(1))
  .option('--canvas <n>', "--dataset cluttered-*: canvas side (default the run's image size)", int(1))
  .option('--distractors <n>', "--dataset cluttered-*: 8x8 distractors per image (default the run's, else 6)", int(0))
  .option('--methods <list>', 'comma-separated methods (at least one)', nameList(LOCALIZE_IDS), [...LOCALIZE_IDS])
  .addOption(new Option('--target <t>', 'class each map explains').choices(['label', 'prediction']).default('label'))
  .option('--batch <n>', 'images per batch', int(1), 64)
  .option('--gradmap-filters <n>', "GradMap's filters per class", int(1), 30)
  .option('--save-maps', 'also write maps/<method>.npy [N, H, W], masks.npy and labels.npy')
  .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'plain', 'none']).default('auto'))
  .addOption(threadsOption())
  .action(async (o) => {
    const given = ['dataRoot', 'imageSize', 'canvas', 'distractors'].filter((k) => o[k] !== undefined);
    if (given.length && !o.dataset) throw new Error(`--${given[0]!.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} applies with --dataset NAME (the run's own dataset uses its own settings)`);
    const { localizeRun } = await import('../app/localize.js');
    const { countProgress } = await import('./progress.js');
    const log = (s: string) => process.stderr.write(s + '\n');
    let bar: ReturnType<typeof countProgress> | null = null;
    const dataset = o.dataset ? { name: o.dataset, root: o.dataRoot, imageSize: o.imageSize, canvas: o.canvas, distractors: o.distractors } : undefined;
    const { report, files } = await localizeRun({ run: o.run, checkpoint: o.checkpoint, split: o.split, limit: o.limit, dataset,
      methods: o.methods, target: o.target, batchSize: o.batch,
      gradMapFilters: o.gradmapFilters, saveMaps: !!o.saveMaps, out: o.out, log,
      progress: (done, total) => { bar ??= countProgress(o.progress, 'localize', total, log); bar.update(done); } });
    (bar as ReturnType<typeof countProgress> | null)?.stop();
    const { formatLocalization } = await import('./format.js');
    console.log(formatLocalization(report));
    console.log(`wrote ${files.join(', ')}`);
  });

program.command('mis').description('MI matrix and MIS of any features: F.npy [N, K] float, L.npy [N] integer labels')
  .requiredOption('--features <file>', 'features .npy')
  .requiredOption('--labels <file>', 'labels .npy')
  .option('--n-neighbors <n>', 'kNN neighbours', int(1), 3)
  .option('--random-state <n>', 'seed of the noise (sklearn random_state)', int(0), 0)
  .option('--balanced', 'balanced sampling of negatives')
  .option('--normalize-columns', 'divide each column of M by its sum')
  .addOption(threadsOption('worker threads of the MI matrix (0 = automatic: every core, at most 8, for large inputs); results are identical with any count'))
  .option('--json', 'print JSON {mis, mi_matrix, seconds}')
  .action(async (o) => {
    const { readNpy } = await import('../io/npy.js');
    const { miMatrixAsync, mis } = await import('../metrics/mutual_info.js');
    const f = readNpy(o.features), l = readNpy(o.labels);
    if (f.shape.length !== 2) throw new Error(`${o.features}: expected a 2-D array [N, K], got shape [${f.shape}]`);
    if (!(f.data instanceof Float32Array || f.data instanceof Float64Array)) throw new Error(`${o.features}: expected float32 or float64 features, got ${f.dtype}`);
    const [n, k] = f.shape;
    const { validateLabels } = await import('../metrics/labels.js');
    const { labels, numClasses: C } = validateLabels(l, o.labels, n, '--labels');
    const t0 = performance.now();
    const M = await miMatrixAsync(f.data, n, k, labels, C, { nNeighbors: o.nNeighbors, randomState: o.randomState, balanceNegatives: !!o.balanced, normalizeColumns: !!o.normalizeColumns,
      workers: o.threads || undefined });
    const seconds = (performance.now() - t0) / 1000;
    const score = mis(M, C, k);
    const matrix = Array.from({ length: C }, (_, c) => Array.from(M.subarray(c * k, (c + 1) * k)));
    if (o.json) console.log(JSON.stringify({ mis: score, mi_matrix: matrix, seconds }));
    else console.log(`MIS ${score.toFixed(4)} over ${k} features, ${C} classes, ${n} samples (${seconds.toFixed(2)} s)`);
  });

program.command('compare').description('compare runs: accuracy, density, MIS, mean specificity, gate/MI agreement; CSG-CAM and CAM localization of runs localized into RUN/localization')
  .argument('<runs...>', 'run folders, or sweep folders (their finished runs)')
  .option('--out <dir>', 'also write comparison.md and comparison.json here (with --group-by also grouped.md, grouped.json, pareto.svg/png)')
  .option('--group-by <keys>', 'mean, std and 95 % CI over seeds per value of these train config keys (e.g. lambda,rho,strategy), and CSG - STD paired by seed')
  .addOption(splitOption())
  .addOption(threadsOption('intra-op threads of libtorch for runs not analysed yet (0 = every core, or OMP_NUM_THREADS when set)'))
  .action(async (runs: string[], o) => {
    const { compareRuns, expandRunDirs, formatComparison, writeComparison } = await import('../app/compare.js');
    const log = (s: string) => process.stderr.write(s + '\n');
    const dirs = expandRunDirs(runs, log);
    if (!dirs.length) throw new Error(`no finished runs in ${runs.join(', ')}`);
    const groupBy = o.groupBy !== undefined ? String(o.groupBy).split(',').map((k: string) => k.trim()).filter(Boolean) : null;
    const { groupComparison, formatGrouped, writeGrouped } = await import('../app/stats.js');
    if (groupBy) groupComparison([], groupBy); // bad keys are named before any analysis
    const { checkOutputDir, writingOutput } = await import('../app/outputs.js');
    if (o.out !== undefined) checkOutputDir('--out', o.out, { runs: dirs, mode: 'add' });
    const rows = await compareRuns(dirs, { split: o.split, log });
    console.log(formatComparison(rows));
    const grouped = groupBy ? groupComparison(rows, groupBy) : null;
    if (grouped) console.log('\n' + formatGrouped(grouped));
    if (o.out) {
      const files = await writingOutput('--out', o.out, async () => [...writeComparison(rows, o.out), ...grouped ? await writeGrouped(grouped, o.out) : []]);
      console.log(`wrote ${files.join(', ')}`);
    }
  });

registerReport(program);

const data = program.command('data').description('make datasets');
data.command('cluttered').description('write cluttered Fashion-MNIST / MNIST with masks: DIR/images/<class>/<i>.png, DIR/masks/<class>/<i>.png, DIR/annotations.json (boxes)')
  .requiredOption('--out <dir>', 'output folder (new or empty)')
  .addOption(new Option('--source <name>', 'idx dataset the items come from').choices(['fashion-mnist', 'mnist']).default('fashion-mnist'))
  .option('--data-root <dir>', 'folder of the idx files (Fashion-MNIST defaults to /usr/share/datasets/fashion-mnist)')
  .addOption(new Option('--split <s>', 'source split').choices(['train', 'test']).default('test'))
  .option('--limit <n>', 'only the first N images (0 = all)', int(0), 0)
  .option('--canvas <n>', 'canvas side', int(1), 64)
  .option('--distractors <n>', '8x8 distractors per image', int(0), 6)
  .option('--seed <n>', 'generation seed', int(0), 0)
  .action(async (o) => {
    const { checkOutputDir, stagedWrite, writingOutput } = await import('../app/outputs.js');
    checkOutputDir('--out', o.out, { mode: 'empty' });
    const { loadMnistLike } = await import('../data/idx.js');
    const { clutterDataset } = await import('../data/cluttered.js');
    const { writeMaskedFolder } = await import('../data/masks.js');
    const settings = { canvas: o.canvas, distractors: o.distractors, seed: o.seed, limit: o.limit };
    const ds = clutterDataset(loadMnistLike(o.dataRoot, o.split, o.source), o.split, settings, `cluttered-${o.source}`);
    let shown = -1;
    const progress = (done: number, total: number) => {
      const pct = Math.floor((100 * done) / total);
      if (process.stderr.isTTY && pct !== shown) { shown = pct; process.stderr.write(`\rwriting ${done}/${total} (${pct} %)${done === total ? '\n' : ''}`); }
    };
    // Into a temp folder renamed into place at the end: a stopped run leaves no half-written dataset.
    await writingOutput('--out', o.out, () => stagedWrite(o.out, async (dir) => {
      await writeMaskedFolder(ds, dir, { generator: { dataset: `cluttered-${o.source}`, split: o.split, ...settings } }, progress);
      return [];
    }));
    console.log(`wrote ${ds.length} images, masks and boxes of cluttered-${o.source} ${o.split} to ${o.out}`);
  });

registerDashboard(program);

program.command('info').description('libtorch version, the BLAS and oneDNN actually loaded, thread counts, CUDA; warns about a slow setup')
  .addOption(threadsOption())
  .option('--json', 'print JSON')
  .action(async (o) => {
    const { torchInfo } = await import('../torch/info.js');
    const i = torchInfo();
    for (const w of i.warnings) process.stderr.write(`csgnet: warning: ${w}\n`);
    if (o.json) { console.log(JSON.stringify(i)); return; }
    const { formatInfo } = await import('./format.js');
    console.log(formatInfo(i));
  });

registerAdversarial(program);
registerExportCommand(program);
registerExplore(program);
registerSweep(program);

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`csgnet: ${e.message}\n`);
  if (process.env.CSGNET_DEBUG) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
