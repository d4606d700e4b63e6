// `csgnet features`: GAP features of the last conv layer as .npy files.
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addRunOptions, threadsOption } from '../options.js';
import { stderrNote as note } from '../format.js';

export function register(program: Command): void {
  addRunOptions(program.command('features').description('write GAP features of the last conv layer (STD path) as DIR/features.npy and DIR/labels.npy'), { images: true })
    .requiredOption('--out <dir>', 'output folder')
    .addOption(threadsOption())
    .action(async (o) => {
      const { openRun, runDataset, extractFeatures } = await import('../../csg/run.js');
      const { writeNpy } = await import('../../io/npy.js');
      const { checkOutputDir, writingOutput } = await import('../../app/outputs.js');
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
}
