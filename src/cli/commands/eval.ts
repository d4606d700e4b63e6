// `csgnet eval`: accuracy, per-class accuracy, confusion matrix and gate density of a run.
import type { Command } from 'commander';
import { addRunOptions, threadsOption } from '../options.js';
import { stderrNote as note } from '../format.js';

export function register(program: Command): void {
  addRunOptions(program.command('eval').description('accuracy, per-class accuracy, confusion matrix and gate density of a run (STD path)'),
    { images: true, limit: 'evaluate only the first N images' })
    .addOption(threadsOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { openRun, runDataset, evaluateRun } = await import('../../csg/run.js');
      const run = openRun(o.run, o.checkpoint);
      const ds = await runDataset(run, o.split, { log: note });
      const ev = evaluateRun(run, ds, o.limit);
      const out = { run: o.run, checkpoint: run.checkpoint, epoch: run.epoch, split: o.split, model: run.config.model, strategy: run.config.strategy,
        accuracy: ev.accuracy, per_class_accuracy: ev.perClassAccuracy, confusion: ev.confusion, density: ev.density, n: ev.n, classes: run.dataset.classes };
      if (o.json) { console.log(JSON.stringify(out)); return; }
      const { formatEvaluation } = await import('../format.js');
      console.log(formatEvaluation(out));
    });
}
