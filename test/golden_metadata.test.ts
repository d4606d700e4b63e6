// Every golden file records what produced it (scripts/golden/build_info.py): torch's version and build
// configuration (torch.__config__.show()) and the BLAS loaded, so that a parity difference can be traced
// to the libtorch build or BLAS vendor. Safetensors goldens keep it in `__metadata__`, JSON goldens
// under a top-level `__metadata__` key. (The .npy goldens have no place for it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { loadSafetensors } from '../src/torch/io/safetensors.js';
import { goldenPath, loadGolden } from './helpers.js';

test('every golden file records torch, its build configuration and the BLAS in use', () => {
  const files = readdirSync(goldenPath('.')).filter((f) => /\.(json|safetensors)$/.test(f)).sort();
  assert.ok(files.length >= 12, `${files.length} golden files`);
  for (const f of files) {
    const meta: Record<string, string> | undefined = f.endsWith('.json') ? loadGolden(f).__metadata__ : loadSafetensors(goldenPath(f)).metadata;
    assert.ok(meta, `${f}: no __metadata__`);
    assert.match(meta.torch ?? '', /^\d+\.\d+/, `${f}: torch version`);
    assert.match(meta.torch_config ?? '', /PyTorch built with:[\s\S]*BLAS_INFO=/, `${f}: torch.__config__.show()`);
    assert.match(meta.blas ?? '', /blas/i, `${f}: BLAS in use`);
  }
});
