// The README's main job: a short STD and a CSG ResNet-20 training on Fashion-MNIST, then their
// comparison. The caller shows progress (events), owns the stop signal and prints the result.
import { join } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { PRESETS, type TrainConfig } from '../csg/config.js';
import { Trainer, combineEvents, type TrainEvents } from '../csg/trainer.js';
import { noCsgEpochReason } from '../csg/schedule.js';
import { eventsLog } from '../csg/events_log.js';
import { compareRuns, type ComparisonRow } from './compare.js';

export interface DemoOptions {
  out: string; epochs: number; limit: number; model: string;
  log: (line: string) => void;
  events?: TrainEvents;
  signal?: AbortSignal;
}

export interface DemoResult { dirs: string[]; rows: ComparisonRow[]; interrupted: boolean }

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const dirs: string[] = [];
  // Before the STD run trains: a CSG run that never gates would compare STD with STD.
  const noCsg = noCsgEpochReason(o.epochs, { ...PRESETS.cifar!, strategy: 'csg' });
  if (noCsg) throw new Error(`demo: ${noCsg.replace('--strategy csg with ', '')}`);
  for (const strategy of ['std', 'csg'] as const) {
    const config: TrainConfig = { ...structuredClone(PRESETS.cifar), model: o.model, strategy, epochs: o.epochs, limit: o.limit };
    const dir = join(o.out, strategy);
    // A finished demo run is replaced; the demo is meant to be rerun as is.
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    o.log(`\n== ${strategy.toUpperCase()} ${o.model} on Fashion-MNIST: ${o.epochs} epochs, ${o.limit || 'all'} training images per epoch -> ${dir}`);
    const trainer = await Trainer.create(config, { outDir: dir, log: o.log });
    const r = await trainer.run({ signal: o.signal, events: combineEvents(o.events, eventsLog(dir, { log: o.log })) });
    if (r.interrupted) return { dirs, rows: [], interrupted: true };
    dirs.push(dir);
  }
  return { dirs, rows: await compareRuns(dirs, { log: o.log }), interrupted: false };
}
