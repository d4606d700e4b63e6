// `csgnet compare`: a table of runs (and sweep folders), optionally grouped over seeds.
import type { Command } from 'commander';
import { splitOption, threadsOption } from '../options.js';
import { stderrLine } from '../format.js';

export function register(program: Command): void {
  program.command('compare').description('compare runs: accuracy, density, MIS, mean specificity, gate/MI agreement; CSG-CAM and CAM localization of runs localized into RUN/localization')
    .argument('<runs...>', 'run folders, or sweep folders (their finished runs)')
    .option('--out <dir>', 'also write comparison.md and comparison.json here (with --group-by also grouped.md, grouped.json, pareto.svg/png)')
    .option('--group-by <keys>', 'mean, std and 95 % CI over seeds per value of these train config keys (e.g. lambda,rho,strategy), and CSG - STD paired by seed')
    .addOption(splitOption())
    .addOption(threadsOption('intra-op threads of libtorch for runs not analysed yet (0 = every core, or OMP_NUM_THREADS when set)'))
    .action(async (runs: string[], o) => {
      const { compareRuns, expandRunDirs, formatComparison, writeComparison } = await import('../../app/compare.js');
      const log = stderrLine;
      const dirs = expandRunDirs(runs, log);
      if (!dirs.length) throw new Error(`no finished runs in ${runs.join(', ')}`);
      const groupBy = o.groupBy !== undefined ? String(o.groupBy).split(',').map((k: string) => k.trim()).filter(Boolean) : null;
      const { groupComparison, formatGrouped, writeGrouped } = await import('../../app/stats.js');
      if (groupBy) groupComparison([], groupBy); // bad keys are named before any analysis
      const { checkOutputDir, writingOutput } = await import('../../app/outputs.js');
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
}
