// The package's public surface: `import ... from 'csgnet'` and its subpaths resolve through the
// exports map (self-reference by name, as a user's code would) and give the documented names;
// package.json's main, types and every export target exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

// A variable module name keeps tsc from resolving 'csgnet' against a dist/ it is still writing.
const load = (name: string): Promise<any> => import(name);

test('package.json main, types and every exports target exist', () => {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
  const targets = [pkg.main, pkg.types];
  for (const v of Object.values<any>(pkg.exports)) targets.push(...(typeof v === 'string' ? [v] : Object.values<string>(v)));
  for (const t of targets) assert.ok(existsSync(join(packageRoot(), t)), `${t} is missing`);
});

test("'csgnet' gives the library: torch namespace, models, data, the CSG method, metrics, .npy I/O", async () => {
  const csgnet = await load('csgnet');
  for (const name of ['torch', 'TorchError', 'createModel', 'MODEL_NAMES', 'loadDataset', 'BatchLoader', 'Trainer', 'RunDir', 'ClassSpecificGate',
    'trainStep', 'CIFAR_PRESET', 'openRun', 'evaluateRun', 'extractFeatures', 'mis', 'miMatrixAsync', 'gateAssignment', 'readNpy', 'writeNpy',
    'Cam', 'GradCam', 'CsgCam', 'GradMap', 'MaxBoxAccV2', 'PxAP']) {
    assert.ok(csgnet[name] !== undefined, `csgnet exports ${name}`);
  }
  const { torch, createModel } = csgnet;
  const model = createModel('resnet20', { inChannels: 1, numClasses: 10 });
  const logits = torch.tidy(() => torch.keep(model.forward(torch.randn([2, 1, 28, 28]))));
  assert.deepEqual(logits.shape, [2, 10]);
  assert.throws(() => torch.ones([2, 3]).mm(torch.ones([2, 3])), (e: any) => e instanceof csgnet.TorchError && e.op === 'aten::mm');
  for (const sub of ['torch', 'models', 'data', 'csg', 'metrics', 'explain', 'io']) assert.ok(Object.keys(await load(`csgnet/${sub}`)).length >= 2, `csgnet/${sub}`);
  assert.equal((await load('csgnet/torch')).Tensor, torch.Tensor, 'one module instance behind both paths');
});
