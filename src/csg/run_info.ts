// A run folder's description (config.json) and checkpoint paths, without libtorch: what commands that
// only read a run (compare on analysed runs) need.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';

export interface RunInfo {
  dir: string;
  config: TrainConfig;
  dataset: { name: string; classes: string[]; channels: number; height: number; width: number };
}

export function readRunInfo(dir: string): RunInfo {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`${dir} is not a csgnet run folder (${file} not found)`);
  let parsed: any;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!parsed.train || !parsed.dataset) throw new Error(`${file}: missing "train" or "dataset" section`);
  return { dir, config: parsed.train, dataset: parsed.dataset };
}

export const CHECKPOINT_DIR = 'checkpoints';

export function checkpointPath(runDir: string, which: 'last' | 'best' | string): string {
  if (which === 'last' || which === 'best') return join(runDir, CHECKPOINT_DIR, `${which}.safetensors`);
  return which;
}
