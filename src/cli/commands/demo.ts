// `csgnet demo`: trains STD and CSG ResNet-20 on Fashion-MNIST, evaluates and compares them.
import type { Command } from 'commander';
import { int, progressOption, threadsOption } from '../options.js';
import { stderrLine } from '../format.js';

export function register(program: Command): void {
  program.command('demo').description('the main job: train STD and CSG ResNet-20 on Fashion-MNIST, evaluate and compare them')
    .option('--out <dir>', 'parent folder of the two runs', 'runs/demo')
    .option('--epochs <n>', 'epochs per model (CSG epochs are 2, 5, ... with the cifar schedule)', int(1), 6)
    .option('--limit <n>', 'training images per epoch (0 = all 60000)', int(0), 10000)
    .option('--model <name>', 'architecture', 'resnet20')
    .addOption(progressOption())
    .addOption(threadsOption())
    .action(async (o) => {
      const { runDemo } = await import('../../app/demo.js');
      const { formatComparison } = await import('../../app/compare.js');
      const { progressEvents } = await import('../progress.js');
      const { onStopSignals } = await import('../signals.js');
      const log = stderrLine;
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
}
