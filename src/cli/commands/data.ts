// `csgnet data`: dataset makers (cluttered Fashion-MNIST / MNIST with masks).
import { Option, type Command } from 'commander';
import { int } from '../options.js';
import { CLUTTER_DEFAULTS } from '../../data/cluttered.js';

export function register(program: Command): void {
  const data = program.command('data').description('make datasets');
  data.command('cluttered').description('write cluttered Fashion-MNIST / MNIST with masks: DIR/images/<class>/<i>.png, DIR/masks/<class>/<i>.png, DIR/annotations.json (boxes)')
    .requiredOption('--out <dir>', 'output folder (new or empty)')
    .addOption(new Option('--source <name>', 'idx dataset the items come from').choices(['fashion-mnist', 'mnist']).default('fashion-mnist'))
    .option('--data-root <dir>', 'folder of the idx files (Fashion-MNIST defaults to /usr/share/datasets/fashion-mnist)')
    .addOption(new Option('--split <s>', 'source split').choices(['train', 'test']).default('test'))
    .option('--limit <n>', 'only the first N images (0 = all)', int(0), 0)
    .option('--canvas <n>', 'canvas side', int(1), CLUTTER_DEFAULTS.canvas)
    .option('--distractors <n>', '8x8 distractors per image', int(0), CLUTTER_DEFAULTS.distractors)
    .option('--seed <n>', 'generation seed', int(0), CLUTTER_DEFAULTS.seed)
    .action(async (o) => {
      const { checkOutputDir, stagedWrite, writingOutput } = await import('../../app/outputs.js');
      checkOutputDir('--out', o.out, { mode: 'empty' });
      const { loadMnistLike } = await import('../../data/idx.js');
      const { clutterDataset } = await import('../../data/cluttered.js');
      const { writeMaskedFolder } = await import('../../data/masks.js');
      const settings = { canvas: o.canvas, distractors: o.distractors, seed: o.seed, limit: o.limit };
      const ds = clutterDataset(loadMnistLike(o.dataRoot, o.split, o.source), o.split, settings, `cluttered-${o.source}`);
      const { percentProgress } = await import('../progress.js');
      const progress = percentProgress('writing');
      // Into a temp folder renamed into place at the end: a stopped run leaves no half-written dataset.
      await writingOutput('--out', o.out, () => stagedWrite(o.out, async (dir) => {
        await writeMaskedFolder(ds, dir, { generator: { dataset: `cluttered-${o.source}`, split: o.split, ...settings } }, progress);
        return [];
      }));
      console.log(`wrote ${ds.length} images, masks and boxes of cluttered-${o.source} ${o.split} to ${o.out}`);
    });
}
