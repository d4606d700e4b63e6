// `csgnet sweep`: a grid of train settings times seeds, N runs at a time, resumable; one progress line
// per running job and the sweep's ETA. Flags the sweep does not know are train flags for every run.
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { int, progressOption } from '../options.js';
import { stderrLine } from '../format.js';

export function register(program: Command): void {
  program.command('sweep').description('train a grid of settings times seeds (one run folder each, DIR/sweep.json); run again to resume')
    .usage('--out DIR --grid "lambda=0.01,0.1,1;rho=0.05,0.1" [--seeds N] [--parallel N] [train flags...]')
    .requiredOption('--out <dir>', 'sweep folder (an existing one is resumed: finished runs skipped, unfinished resumed)')
    .option('--grid <axes>', "KEY=V1,V2;KEY=... over train config keys (strategy, lambda, rho, lr, warmup, ...); required for a new sweep")
    .option('--seeds <n|list>', 'seeds 0..N-1, or a comma-separated list (default 1 seed: 0); on an existing sweep, more seeds add their runs')
    .option('--parallel <n>', 'runs at a time', int(1), 1)
    .option('--threads <n>', 'threads for all runs together, split between them (default: every core)', int(1))
    .addOption(progressOption())
    .argument('[train flags...]', 'train flags every run gets (e.g. --model lenet --epochs 10)')
    .allowUnknownOption().allowExcessArguments()
    .action(async (trainArgs: string[], o) => {
      const { parseGrid, parseSeeds, presetOf } = await import('../../app/sweep.js');
      const { runSweep } = await import('../../app/sweep_run.js');
      const { onStopSignals } = await import('../signals.js');
      const { jobLine, overallLine, redrawnLines } = await import('../progress.js');
      const log = stderrLine;
      const grid = o.grid !== undefined ? parseGrid(o.grid, presetOf(trainArgs)) : undefined;
      const seeds = o.seeds !== undefined ? parseSeeds(o.seeds) : undefined;
      const tty = o.progress === 'auto' && process.stderr.isTTY;
      let lastPlain = 0;
      const draw = redrawnLines();
      const say = (s: string) => { if (tty) draw([]); log(s); };
      const stop = onStopSignals(log);
      try {
        const r = await runSweep({ out: o.out, grid, seeds, trainArgs, parallel: o.parallel, threads: o.threads ?? availableParallelism(), signal: stop.signal,
          events: {
            log: say,
            jobStart: (j) => { if (o.progress !== 'none') say(`${j.resumed ? 'resuming' : 'starting'} ${j.name}`); },
            jobEnd: (j, e) => {
              if (e.ok) { if (o.progress !== 'none') say(`finished ${j.name}`); }
              else if (e.interrupted) say(`stopped ${j.name} at ${(100 * j.fraction).toFixed(0)} % (resumable)`);
              else say(`FAILED ${j.name}: ${e.detail ?? `exit code ${e.code}`}`);
            },
            progress: (jobs, overall) => {
              const lines = [...jobs.map((j) => jobLine(j)), overallLine(overall, jobs.length)];
              if (tty) draw(lines);
              else if (o.progress !== 'none' && performance.now() - lastPlain >= (o.progress === 'plain' ? 10000 : 30000)) {
                lastPlain = performance.now();
                for (const l of lines) log(l);
              }
            },
          } });
        if (tty) draw([]);
        const left = r.spec.runs.length - r.skipped.length - r.completed.length - r.failed.length;
        console.log(`${o.out}: ${r.completed.length} runs trained, ${r.skipped.length} already finished, ${r.failed.length} failed` +
          (left ? `, ${left} not finished` : '') + ` (of ${r.spec.runs.length}; list in ${o.out}/sweep.json)`);
        for (const f of r.failed) console.log(`  failed: ${f.name}: ${f.detail}`);
        if (r.interrupted) { console.log(`interrupted: run the same command (or csgnet sweep --out ${o.out}) to resume`); process.exitCode = stop.exitCode(); }
        else if (r.failed.length) process.exitCode = 1;
        else console.log(`compare them: csgnet compare ${o.out} --group-by ${r.spec.grid.map((a) => a.key).join(',')}`);
      } finally {
        stop.dispose();
      }
    });
}
