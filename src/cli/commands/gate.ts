// `csgnet gate`: the gate G of a CSG run and its filter-to-class assignment.
import type { Command } from 'commander';
import { addRunOptions, threadsOption } from '../options.js';

export function register(program: Command): void {
  addRunOptions(program.command('gate').description('show the gate G [filters x classes] and the filter-to-class assignment'))
    .addOption(threadsOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { openRun } = await import('../../csg/run.js');
      const run = openRun(o.run, o.checkpoint);
      if (!run.gate) throw new Error(`${o.run} is an STD run (strategy std): it has no gate`);
      const g = run.gate.toArray();
      const assignment = run.gate.assignment();
      const out = { run: o.run, density: run.gate.density(), classes: run.dataset.classes, gate: g, assignment };
      if (o.json) { console.log(JSON.stringify(out)); return; }
      const { formatGate } = await import('../format.js');
      console.log(formatGate(out));
    });
}
