// `csgnet explore`: serves a run's in-browser explorer (the model runs in the page) until Ctrl-C.
import type { Command } from 'commander';
import { addRunOptions, addServerOptions, int, sharedWarning, threadsOption } from '../options.js';
import { EXPLORE_DEFAULTS } from '../../app/defaults.js';

export function register(program: Command): void {
  addServerOptions(addRunOptions(program.command('explore').description('a local web page that classifies dropped images or test samples with the run\'s model in the browser (onnxruntime-web): probabilities, the predicted class\'s filters and maps, the gate'))
    .option('--samples <n>', 'how many test images to offer as samples', int(0), EXPLORE_DEFAULTS.samples), 'model and its samples', EXPLORE_DEFAULTS.port)
    .addOption(threadsOption())
    .action(async (o) => {
      const { startExplorer } = await import('../../app/explore.js');
      const { onStopSignals } = await import('../signals.js');
      const stop = onStopSignals(() => {});
      try {
        const e = await startExplorer({ run: o.run, checkpoint: o.checkpoint, samples: o.samples, host: o.host, allowRemote: o.allowRemote, port: o.port, signal: stop.signal });
        if (e.shared) process.stderr.write(sharedWarning('explorer', e.url));
        console.log(`csgnet explore: ${e.url} (run ${o.run}; Ctrl-C stops it)`);
        await new Promise<void>((res) => stop.signal.addEventListener('abort', () => res(), { once: true }));
        await e.close();
      } finally {
        stop.dispose();
      }
    });
}
