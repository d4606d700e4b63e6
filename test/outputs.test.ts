// --out of file outputs (export, report) is checked before any work: an existing file only with
// --force, never a file a run's training owns (its checkpoints above all), never a folder or '/'.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkOutputFile } from '../src/app/outputs.js';
import { packageRoot } from '../src/util/paths.js';

const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-out-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// A run folder as training leaves it (the checks come before the run is opened, so stand-ins do).
const run = join(tmp, 'run');
mkdirSync(join(run, 'checkpoints'), { recursive: true });
writeFileSync(join(run, 'config.json'), '{}');
writeFileSync(join(run, 'metrics.jsonl'), '{"epoch":1}\n');
writeFileSync(join(run, 'checkpoints', 'last.safetensors'), 'the weights');
writeFileSync(join(tmp, 'old.onnx'), 'an earlier export');

test('checkOutputFile: existing files need force; run-owned files, folders, / and missing folders are refused', () => {
  assert.equal(checkOutputFile('--out', join(tmp, 'new.onnx')), join(tmp, 'new.onnx'));
  assert.throws(() => checkOutputFile('--out', join(tmp, 'old.onnx')), /--out .*old\.onnx: exists; add --force to replace it/);
  assert.equal(checkOutputFile('--out', join(tmp, 'old.onnx'), { force: true }), join(tmp, 'old.onnx'));
  for (const owned of [join(run, 'checkpoints', 'last.safetensors'), join(run, 'metrics.jsonl'), join(run, 'config.json'), join(run, 'checkpoints', 'new.bin')]) {
    assert.throws(() => checkOutputFile('--out', owned, { force: true }), /belongs to the training of run/, owned);
  }
  assert.equal(checkOutputFile('--out', join(run, 'model.onnx')), join(run, 'model.onnx'), 'a new file beside the run\'s own files is fine');
  assert.throws(() => checkOutputFile('--out', '/'), /the file-system root is not a file/);
  assert.throws(() => checkOutputFile('--out', tmp, { force: true }), /is a folder; give a file name/);
  assert.equal(checkOutputFile('--out', join(tmp, 'new', 'folder', 'x.onnx')), join(tmp, 'new', 'folder', 'x.onnx'), 'missing folders are made');
  assert.throws(() => checkOutputFile('--out', join(tmp, 'old.onnx', 'x.onnx')), /old\.onnx is a file, not a folder/);
  assert.throws(() => checkOutputFile('--out', ' '), /--out: empty path/);
});

test('export --out onto a checkpoint and report --out onto metrics.jsonl are refused; nothing is written', () => {
  const exp = spawnSync('node', [cli, 'export', '--run', run, '--out', join(run, 'checkpoints', 'last.safetensors'), '--force'], { encoding: 'utf8' });
  assert.notEqual(exp.status, 0);
  assert.match(exp.stderr, /--out .*last\.safetensors: that file belongs to the training of run/);
  assert.equal(readFileSync(join(run, 'checkpoints', 'last.safetensors'), 'utf8'), 'the weights');
  const again = spawnSync('node', [cli, 'export', '--run', run, '--out', join(tmp, 'old.onnx')], { encoding: 'utf8' });
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /old\.onnx: exists; add --force/);
  assert.equal(readFileSync(join(tmp, 'old.onnx'), 'utf8'), 'an earlier export');
  const rep = spawnSync('node', [cli, 'report', run, '--out', join(run, 'metrics.jsonl')], { encoding: 'utf8' });
  assert.notEqual(rep.status, 0);
  assert.match(rep.stderr, /metrics\.jsonl: that file belongs to the training of run/);
  assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8'), '{"epoch":1}\n');
});
