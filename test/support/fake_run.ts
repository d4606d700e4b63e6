// A run folder without training: config.json and checkpoints/last.safetensors of a freshly initialized
// model (seeded), for tests of commands that read runs (localize, compare) where the weights need not
// be trained, only loaded.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { PRESETS, type TrainConfig } from '../../src/csg/config.js';
import { createModelAndGate } from '../../src/csg/model.js';
import { saveSnapshot } from '../../src/csg/checkpoint.js';

export interface FakeRunData {
  name: string; classes: string[]; channels: number; height: number; width: number;
  /** The training statistics config.json records (a run made before they were recorded has none). */
  mean?: number[]; std?: number[];
}

export function fakeRun(dir: string, train: Partial<TrainConfig>, data: FakeRunData, seed = 0): string {
  const config: TrainConfig = { ...structuredClone(PRESETS.cifar), ...train };
  torch.manualSeed(seed);
  const { model, gate } = createModelAndGate(config, { channels: data.channels, numClasses: data.classes.length, height: data.height });
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: config, dataset: data }));
  const tensors: Record<string, torch.Tensor> = {};
  for (const [k, v] of Object.entries(model.stateDict())) tensors[`model.${k}`] = v;
  if (gate) tensors['gate'] = gate.weight;
  saveSnapshot(join(dir, 'checkpoints', 'last.safetensors'), { tensors, state: { epoch: 1 } });
  return dir;
}
