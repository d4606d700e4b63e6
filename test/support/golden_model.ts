// The fixed ResNet-20 (1 channel, 10 classes) that several golden scripts share: its weights file is
// named in the golden's metadata with its SHA-256, so a regenerated weights file cannot pass silently.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { goldenPath } from '../helpers.js';
import type { Tensor } from '../../src/torch/index.js';
import { loadSafetensors } from '../../src/torch/io/safetensors.js';
import { createModel, type CsgBackbone } from '../../src/models/index.js';

/** The eval-mode model whose weights `metadata.weights_file` holds (keys 'w.<name>'), checked against `metadata.weights_sha256`. */
export function loadGoldenResnet20(metadata: Record<string, string>, golden: string, script: string): CsgBackbone {
  const sha = createHash('sha256').update(readFileSync(goldenPath(metadata.weights_file!))).digest('hex');
  assert.equal(sha, metadata.weights_sha256, `${metadata.weights_file} changed since ${golden} was made: rerun scripts/golden/${script}`);
  const { tensors } = loadSafetensors(goldenPath(metadata.weights_file!));
  const w: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith('w.')) w[k.slice(2)] = v;
  const m = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  m.loadStateDict(w);
  for (const v of Object.values(tensors)) v.dispose();
  m.eval();
  return m;
}
