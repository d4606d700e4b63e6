// `csgnet localize`: localization maps of a run scored against masks (src/app/localize.ts).
import { Option, type Command } from 'commander';
import { addAttributionOptions, addRunOptions, attributionSettings, int, nameList, progressOption, threadsOption } from '../options.js';
import { KNOWN_DATASETS } from '../../data/names.js';
import { CLUTTER_DEFAULTS } from '../../data/cluttered.js';
import { KNOWN_LOCALIZE_METHODS, LOCALIZE_DEFAULTS as D } from '../../app/defaults.js';
import { stderrLine } from '../format.js';
import { FAITHFULNESS_METRICS } from '../../metrics/faithfulness/names.js';

export function register(program: Command): void {
  addAttributionOptions(addRunOptions(program.command('localize').description('localization maps of a run (CAM, Grad-CAM, Grad-CAM++, CSG-CAM, ActivMap, GradMap; Score-CAM, XGrad-CAM, LayerCAM, EigenCAM, HiResCAM, Ablation-CAM, saliency, IG, SmoothGrad, occlusion on request) scored against masks -> DIR/localization.json, overlays.png'),
    { images: true }))
    .option('--out <dir>', 'output folder (default RUN/localization, where compare looks; required with --dataset)')
    .addOption(new Option('--dataset <name>', "score on this dataset with masks instead of the run's own (same channels, classes and image size)").choices([...KNOWN_DATASETS]))
    .option('--data-root <dir>', "--dataset's data folder")
    .option('--image-size <n>', "--dataset: load imagefolder / voc-part images at N x N (default the run's size); another size than the run's only when given", int(1))
    .option('--canvas <n>', "--dataset cluttered-*: canvas side (default the run's image size)", int(1))
    .option('--distractors <n>', `--dataset cluttered-*: 8x8 distractors per image (default the run's, else ${CLUTTER_DEFAULTS.distractors})`, int(0))
    .option('--methods <list>', `comma-separated methods (at least one; default ${D.methods.join(',')})`, nameList(KNOWN_LOCALIZE_METHODS), [...D.methods])
    .option('--layer <name>', 'target layer of gradcam, gradcampp and the CAM family by its state-dict prefix, e.g. layer3.1 (default: the last feature map)')
    .addOption(new Option('--target <t>', 'class each map explains').choices(['label', 'prediction']).default(D.target))
    .option('--batch <n>', 'images per batch', int(1), D.batchSize)
    .option('--gradmap-filters <n>', "GradMap's filters per class", int(1), D.gradMapFilters)
    .option('--save-maps', 'also write maps/<method>.npy [N, H, W], masks.npy and labels.npy')
    .option('--metrics <list>', 'also score the class-map methods by these faithfulness metrics (default none)', nameList(FAITHFULNESS_METRICS))
    .addOption(progressOption())
    .addOption(threadsOption())
    .action(async (o) => {
      const given = ['dataRoot', 'imageSize', 'canvas', 'distractors'].filter((k) => o[k] !== undefined);
      if (given.length && !o.dataset) throw new Error(`--${given[0]!.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} applies with --dataset NAME (the run's own dataset uses its own settings)`);
      const { localizeRun } = await import('../../app/localize.js');
      const { countProgress } = await import('../progress.js');
      const log = stderrLine;
      let bar: ReturnType<typeof countProgress> | null = null;
      const dataset = o.dataset ? { name: o.dataset, root: o.dataRoot, imageSize: o.imageSize, canvas: o.canvas, distractors: o.distractors } : undefined;
      const { report, files } = await localizeRun({ run: o.run, checkpoint: o.checkpoint, split: o.split, limit: o.limit, dataset,
        methods: o.methods, target: o.target, layer: o.layer, batchSize: o.batch,
        gradMapFilters: o.gradmapFilters, attribution: attributionSettings(o), saveMaps: !!o.saveMaps, out: o.out, log,
        faithfulness: o.metrics ? { metrics: o.metrics } : undefined,
        progress: (done, total) => { bar ??= countProgress(o.progress, 'localize', total, log); bar.update(done); } });
      (bar as ReturnType<typeof countProgress> | null)?.stop();
      const { formatLocalization } = await import('../format.js');
      console.log(formatLocalization(report));
      console.log(`wrote ${files.join(', ')}`);
    });
}
