// The voc-part recipe on a small image folder: two optimizers with their own learning rates and
// trainable children, G inside the CSG optimizer, schedulers stepping on their own epochs; and
// --pretrained loading torchvision-named weights while skipping a mismatched head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as torch from '../src/torch/index.js';
import { VOC_PART_PRESET, type TrainConfig } from '../src/csg/config.js';
import { Trainer, readMetrics, loadPretrained } from '../src/csg/trainer.js';
import { createModel } from '../src/models/registry.js';
import { saveSafetensors } from '../src/torch/io/safetensors.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-presets-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function makeImageFolder(root: string): Promise<void> {
  // Three classes of 32x32 colour images that differ in their dominant channel.
  for (const split of ['train', 'test']) {
    for (let c = 0; c < 3; c++) {
      const dir = join(root, split, `class${c}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < (split === 'train' ? 12 : 4); i++) {
        const px = Buffer.alloc(32 * 32 * 3);
        for (let p = 0; p < 32 * 32; p++) for (let ch = 0; ch < 3; ch++) px[p * 3 + ch] = ch === c ? 180 + ((p + i) % 60) : (p * 7 + i * 13) % 90;
        await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(dir, `${i}.png`));
      }
    }
  }
}

const snapshot = (ts: torch.Tensor[]) => ts.map((t) => torch.keep(t.detach().clone()));
const changed = (a: torch.Tensor[], b: torch.Tensor[]) => a.map((t, i) => !t.equal(b[i]));

test('voc-part preset: per-path optimizers, frozen children, gate in the CSG optimizer', async () => {
  const root = join(tmp, 'images');
  await makeImageFolder(root);
  const config: TrainConfig = { ...structuredClone(VOC_PART_PRESET), model: 'resnet18', dataRoot: root, imageSize: 32, epochs: 4,
    warmup: 1, period: 3, phaseMin: 2, batchSize: 12, threads: 1 };
  const t = await Trainer.create(config, { outDir: join(tmp, 'voc'), log: () => {} });
  assert.notEqual(t.stdOpt, t.csgOpt);
  assert.equal(t.gateOpt, null);
  assert.equal(t.stdOpt.paramGroups[0].lr, 1e-5);
  assert.equal(t.csgOpt.paramGroups[0].lr, 1e-3);
  assert.ok(t.csgOpt.paramGroups[0].params.includes(t.gate!.weight), 'G is optimized with the CSG path');
  const named = [...t.model.namedParameters()];
  const frozenForStd = named.filter(([n]) => /^(conv1|bn1|layer1)\./.test(n)).map(([, p]) => p);
  const stdOnly = named.filter(([n]) => n.startsWith('layer2.')).map(([, p]) => p); // top 5 but not top 4
  const gate0 = snapshot([t.gate!.weight]);
  const frozen0 = snapshot(frozenForStd), stdOnly0 = snapshot(stdOnly);
  // epochs 0, 1 are STD (warmup 1; 1 % 3 < 2), epoch 2 is CSG, epoch 3 STD
  await t.run({ stopAfterEpochs: 2 });
  assert.ok(changed(gate0, [t.gate!.weight]).every((c) => !c), 'gate untouched on STD epochs');
  assert.ok(changed(frozen0, frozenForStd).every((c) => !c), 'children below the top 5 stay frozen');
  assert.ok(changed(stdOnly0, stdOnly).some((c) => c), 'layer2 trains on STD epochs');
  const stdOnly1 = snapshot(stdOnly);
  await t.run({ stopAfterEpochs: 1 });
  assert.ok(changed(gate0, [t.gate!.weight]).some((c) => c), 'gate trains on the CSG epoch');
  assert.ok(changed(stdOnly1, stdOnly).every((c) => !c), 'layer2 is frozen on CSG epochs (top 4 only)');
  assert.ok(changed(frozen0, frozenForStd).every((c) => !c));
  await t.run();
  const m = readMetrics(join(tmp, 'voc'));
  assert.deepEqual(m.map((x) => x.path), ['std', 'std', 'csg', 'std']);
  assert.deepEqual(Object.keys(m[0].lr).sort(), ['csg', 'std']);
  // each scheduler counts only its own epochs
  assert.equal(t.stdSched.lastEpoch, 3);
  assert.equal(t.csgSched.lastEpoch, 1);
});

test('--pretrained loads torchvision names and skips a head of another shape', () => {
  const src = createModel('resnet18', { inChannels: 3, numClasses: 1000 });
  const file = join(tmp, 'resnet18.safetensors');
  saveSafetensors(file, src.stateDict());
  const dst = createModel('resnet18', { inChannels: 3, numClasses: 5 });
  const lines: string[] = [];
  loadPretrained(dst, file, (s) => lines.push(s));
  assert.match(lines[0], /loaded 120 tensors .* skipped 2 \(fc\.bias, fc\.weight\)/);
  assert.ok(dst.getSubmodule('layer4.1.conv2').getParameter('weight')!.equal(src.getSubmodule('layer4.1.conv2').getParameter('weight')!));
  const other = join(tmp, 'other.safetensors');
  saveSafetensors(other, { 'encoder.weight': torch.zeros([3]) });
  assert.throws(() => loadPretrained(dst, other, () => {}), /no tensor matches the model's parameter names/);
});
