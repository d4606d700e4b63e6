// Checkpoints: one safetensors file per snapshot holding model, gate, optimizer and RNG tensors,
// with the JSON trainer state in its metadata. Written atomically (temp file + rename).
import { existsSync } from 'node:fs';
import type { Tensor } from '../torch/index.js';
import { loadSafetensors, saveSafetensors } from '../torch/io/safetensors.js';

export interface Snapshot {
  tensors: Record<string, Tensor>;
  state: any;
}

export { CHECKPOINT_DIR, checkpointPath } from './run_dir.js';

export function saveSnapshot(path: string, snap: Snapshot): void {
  saveSafetensors(path, snap.tensors, { format: 'csgnet-checkpoint', state: JSON.stringify(snap.state) });
}

export function loadSnapshot(path: string): Snapshot {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const { tensors, metadata } = loadSafetensors(path);
  if (!metadata || metadata.format !== 'csgnet-checkpoint' || typeof metadata.state !== 'string') {
    throw new Error(`${path}: not a csgnet checkpoint (metadata.format is ${JSON.stringify(metadata?.format)})`);
  }
  let state: any;
  try {
    state = JSON.parse(metadata.state);
  } catch (e) {
    throw new Error(`${path}: corrupt trainer state in checkpoint metadata (${(e as Error).message})`);
  }
  return { tensors, state };
}

/** Tensors under `prefix.` in a flat dict, with the prefix removed. */
export function withPrefix(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix + '.')) out[k.slice(prefix.length + 1)] = v;
  return out;
}

export function addPrefix(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) out[`${prefix}.${k}`] = v;
  return out;
}
