// The README's main job: a short STD and CSG ResNet-20 training on Fashion-MNIST, then a comparison.
import { join } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { PRESETS, type TrainConfig } from '../csg/config.js';
import { Trainer } from '../csg/trainer.js';
import { compareRuns, formatComparison } from '../metrics/compare.js';
import { progressEvents } from './progress.js';
import { onStopSignals } from './signals.js';

const log = (s: string) => process.stderr.write(s + '\n');

export interface DemoOptions { out: string; epochs: number; limit: number; model: string; progress: 'auto' | 'plain' | 'none' }

export async function runDemo(o: DemoOptions): Promise<void> {
  const dirs: string[] = [];
  for (const strategy of ['std', 'csg'] as const) {
    const config: TrainConfig = { ...structuredClone(PRESETS.cifar), model: o.model, strategy, epochs: o.epochs, limit: o.limit };
    const dir = join(o.out, strategy);
    // A finished demo run is replaced; the demo is meant to be rerun as is.
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`\n== ${strategy.toUpperCase()} ${o.model} on Fashion-MNIST: ${o.epochs} epochs, ${o.limit || 'all'} training images per epoch -> ${dir}\n`);
    const trainer = await Trainer.create(config, { outDir: dir, log });
    const stop = onStopSignals(log);
    try {
      const r = await trainer.run({ signal: stop.signal, events: progressEvents(o.progress, log) });
      if (r.interrupted) { process.exitCode = stop.exitCode(); return; }
    } finally {
      stop.dispose();
    }
    dirs.push(dir);
  }
  const rows = await compareRuns(dirs, { log: (s) => process.stderr.write(s + '\n') });
  console.log('\n' + formatComparison(rows));
  console.log(`\nRun folders: ${dirs.join(', ')} (csgnet eval --run DIR, csgnet gate --run DIR, csgnet analyze --run DIR --out DIR)`);
}
