// `csgnet dashboard`: serves the runs folder's web dashboard until Ctrl-C.
import type { Command } from 'commander';
import { addServerOptions, sharedWarning } from '../options.js';
import { DASHBOARD_DEFAULTS } from '../../app/defaults.js';

export function register(program: Command): void {
  addServerOptions(program.command('dashboard').description('a local web page listing the runs in a folder, with live curves and progress of runs that train, and their reports')
    .option('--runs <dir>', 'folder holding the run folders (searched 3 levels deep)', 'runs'), 'runs', DASHBOARD_DEFAULTS.port)
    .action(async (o) => {
      const { startDashboard } = await import('../../app/dashboard/server.js');
      const { onStopSignals } = await import('../signals.js');
      const stop = onStopSignals(() => {});
      try {
        const d = await startDashboard({ runsDir: o.runs, host: o.host, allowRemote: o.allowRemote, port: o.port, signal: stop.signal });
        if (d.shared) process.stderr.write(sharedWarning('dashboard', d.url));
        console.log(`csgnet dashboard: ${d.url} (runs in ${o.runs}; Ctrl-C stops it)`);
        await new Promise<void>((res) => stop.signal.addEventListener('abort', () => res(), { once: true }));
        await d.close();
      } finally {
        stop.dispose();
      }
    });
}
