// `csgnet report RUN [RUN...] --out report.html`: one self-contained HTML page of the runs.
import type { Command } from 'commander';
import { Option } from 'commander';
import { int, splitOption, threadsOption } from '../options.js';
import { REPORT_DEFAULTS as D } from '../../app/defaults.js';
import { stderrLine } from '../format.js';

export function register(program: Command): void {
  program.command('report').description('one self-contained HTML page of runs: configuration, curves, gate, MI, specificity, filter gallery, localization, adversarial, comparison')
    .argument('<runs...>', 'run folders')
    .option('--out <file>', 'HTML file to write (an existing file only with --force)', 'report.html')
    .option('--force', 'replace an existing --out file (never a file of a run\'s training: config, metrics, checkpoints)')
    .addOption(new Option('--checkpoint <which>', 'last, best or a checkpoint file').default('last'))
    .addOption(splitOption())
    .option('--no-analyze', 'do not compute a missing analysis (show what RUN/analysis holds)')
    .option('--analysis-limit <n>', 'images of a computed analysis (0 = all, as compare)', int(0), D.analysisLimit)
    .option('--no-gallery', 'leave out the filter gallery')
    .option('--gallery-images <n>', 'the gallery searches the first N images of the split', int(1), D.galleryImages)
    .option('--filters-per-class <n>', 'gallery filters shown per class', int(1), D.filtersPerClass)
    .option('--images-per-filter <n>', 'gallery images per filter', int(1), D.imagesPerFilter)
    .option('--title <text>', 'page title')
    .addOption(threadsOption())
    .action(async (runs: string[], o) => {
      const { checkOutputFile } = await import('../../app/outputs.js');
      checkOutputFile('--out', o.out, { force: o.force, runs });
      const { writeReport } = await import('../../app/report.js');
      const log = stderrLine;
      const r = await writeReport({ runs, out: o.out, checkpoint: o.checkpoint, split: o.split, analyze: o.analyze, analysisLimit: o.analysisLimit,
        gallery: o.gallery, galleryImages: o.galleryImages, filtersPerClass: o.filtersPerClass, imagesPerFilter: o.imagesPerFilter, title: o.title, log });
      for (const run of r.data.runs) for (const n of run.notes) log(`${run.name}: ${n}`);
      console.log(`wrote ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB, ${r.data.runs.length} run${r.data.runs.length === 1 ? '' : 's'})`);
    });
}
