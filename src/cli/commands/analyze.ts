// `csgnet analyze`: MIS, MI matrix, gate density, filter-class assignment and figures of a run.
import type { Command } from 'commander';
import { addRunOptions, int, threadsOption } from '../options.js';
import { stderrNote as note } from '../format.js';
import { DEFAULT_N_NEIGHBORS } from '../../metrics/mi/estimator.js';

export function register(program: Command): void {
  addRunOptions(program.command('analyze').description('MIS, MI matrix, gate density, filter-class assignment and figures of a run -> DIR/analysis.json'), { images: true })
    .requiredOption('--out <dir>', 'output folder')
    .option('--n-neighbors <n>', 'kNN neighbours of the MI estimator', int(1), DEFAULT_N_NEIGHBORS)
    .option('--balanced', 'balanced sampling of negatives (released script option)')
    .option('--normalize-columns', 'divide each column of the MI matrix by its sum (released script option)')
    .addOption(threadsOption())
    .option('--json', 'print the analysis JSON')
    .action(async (o) => {
      const { analyzeRun, writeAnalysis } = await import('../../app/run_analysis.js');
      const { checkOutputDir, writingOutput } = await import('../../app/outputs.js');
      const { RunDir } = await import('../../csg/run_dir.js');
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
}
