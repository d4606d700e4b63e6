// `csgnet explain`: class maps of a run scored by faithfulness, no masks needed (src/app/explain.ts).
import { Option, type Command } from 'commander';
import { addAttributionOptions, addRunOptions, attributionSettings, int, nameList, progressOption, threadsOption } from '../options.js';
import { CLASS_MAP_METHODS, EXPLAIN_DEFAULTS as D } from '../../app/defaults.js';
import { stderrLine } from '../format.js';

export function register(program: Command): void {
  addAttributionOptions(addRunOptions(program.command('explain').description('class maps of a run (CAM, Grad-CAM, Grad-CAM++, CSG-CAM by default; any class-map method of localize) scored by faithfulness (deletion, insertion, ROAD, confidence change) -> DIR/faithfulness.json'),
    { images: true, limit: `only the first N images (0 = all; default ${D.limit})` }))
    .option('--out <dir>', 'output folder (default RUN/faithfulness, where compare and report look)')
    .option('--methods <list>', `comma-separated class-map methods, at least one, of ${CLASS_MAP_METHODS.join(', ')}`, nameList(CLASS_MAP_METHODS), [...D.methods])
    .option('--metrics <list>', 'comma-separated faithfulness metrics (at least one)', nameList(D.metrics), [...D.metrics])
    .option('--layer <name>', 'target layer, for the methods that take one (a state-dict prefix of the backbone)')
    .addOption(new Option('--target <t>', 'class each map explains').choices(['label', 'prediction']).default(D.target))
    .option('--steps <n>', 'deletion / insertion steps (default the image height: one row of pixels per step, as RISE)', int(1))
    .addOption(new Option('--deletion-baseline <b>', "what deleted pixels become ('mean': the training mean, RISE's zeros)").choices(['mean', 'blur']).default('mean'))
    .addOption(new Option('--insertion-baseline <b>', "what inserted pixels replace ('blur': RISE's blurred image)").choices(['mean', 'blur']).default('blur'))
    .option('--seed <n>', "seed of ROAD's imputation noise", int(0), 0)
    .option('--batch <n>', 'images per batch', int(1), D.batchSize)
    .option('--save-maps', 'also write maps/<method>.npy [N, H, W] and labels.npy')
    .addOption(progressOption())
    .addOption(threadsOption())
    .action(async (o) => {
      const { explainRun } = await import('../../app/explain.js');
      const { countProgress } = await import('../progress.js');
      const log = stderrLine;
      let bar: ReturnType<typeof countProgress> | null = null;
      const { report, files } = await explainRun({ run: o.run, checkpoint: o.checkpoint, split: o.split, limit: o.limit,
        methods: o.methods, metrics: o.metrics, layer: o.layer, attribution: attributionSettings(o), target: o.target, steps: o.steps, deletionBaseline: o.deletionBaseline,
        insertionBaseline: o.insertionBaseline, seed: o.seed, batchSize: o.batch, saveMaps: !!o.saveMaps, out: o.out, log,
        progress: (done, total) => { bar ??= countProgress(o.progress, 'explain', total, log); bar.update(done); } });
      (bar as ReturnType<typeof countProgress> | null)?.stop();
      const { formatFaithfulness } = await import('../format.js');
      console.log(formatFaithfulness(report));
      console.log(`wrote ${files.join(', ')}`);
    });
}
