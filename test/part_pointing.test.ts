// The pointing game per part (metrics/localization partPointing) against the image-level PointingGame on
// the same maps and each part's masks, and `csgnet localize` on a VOC Part run reporting it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/data/rng.js';
import { PointingGame, partPointing, type PartMaskSet } from '../src/metrics/localization/index.js';
import { VOC_PART_CLASSES } from '../src/data/vocpart.js';
import { localizeRun } from '../src/app/localize.js';
import { fakeRun } from './support/fake_run.js';
import { vocPartFixture, VOC_FIXTURE_SIZE } from './support/vocpart_fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-parts-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('partPointing equals PointingGame over the images showing each part; hidden parts do not count', () => {
  const rng = new Rng(7), n = 40, h = 20, w = 24, hw = h * w, names = ['head', 'leg', 'tail', 'wing'];
  const maps = Float32Array.from({ length: n * hw }, () => rng.float());
  const offsets = [0], part: number[] = [], masks: number[] = [];
  const perPart: { img: number; mask: Uint8Array }[][] = names.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {   // wing (3) never appears
      if (rng.float() < 0.3) continue;
      const m = new Uint8Array(hw);
      const hidden = rng.float() < 0.2;   // an all-zero mask: named but not visible
      if (!hidden) {
        const x0 = rng.int(w - 4), y0 = rng.int(h - 4), x1 = x0 + rng.int(w - x0), y1 = y0 + rng.int(h - y0);
        for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * w + x] = 1;
        perPart[k]!.push({ img: i, mask: m });
      }
      part.push(k); masks.push(...m);
    }
    offsets.push(part.length);
  }
  const parts: PartMaskSet = { names, offsets: Int32Array.from(offsets), part: Int32Array.from(part), masks: Uint8Array.from(masks) };
  for (const tolerance of [0, 2.5]) {
    const got = partPointing(maps, [n, h, w], parts, { tolerance });
    assert.deepEqual(got.map((g) => g.part), names);
    for (let k = 0; k < 3; k++) {
      const sub = perPart[k]!, m = sub.length;
      const subMaps = new Float32Array(m * hw), subMasks = new Uint8Array(m * hw);
      sub.forEach((e, j) => { subMaps.set(maps.subarray(e.img * hw, (e.img + 1) * hw), j * hw); subMasks.set(e.mask, j * hw); });
      const expected = new PointingGame(subMaps, subMasks, [m, h, w], { tolerance }).evaluate(new Array(m).fill(0), 1).overall.hitRate;
      assert.equal(got[k]!.images, m);
      assert.equal(got[k]!.hitRate, expected, `${names[k]} at tolerance ${tolerance}`);
    }
    assert.deepEqual(got[3], { part: 'wing', images: 0, hitRate: NaN });
  }
  // A map whose maximum sits on a part: a hit; 1 px off with tolerance 0: a miss, with tolerance 1: a hit.
  const one = new Float32Array(hw); one[5 * w + 6] = 1;
  const mask = new Uint8Array(hw); mask[5 * w + 7] = 1;
  const single = { names: ['x'], offsets: [0, 1], part: [0], masks: mask };
  assert.equal(partPointing(one, [1, h, w], single, { tolerance: 0 })[0]!.hitRate, 0);
  assert.equal(partPointing(one, [1, h, w], single, { tolerance: 1 })[0]!.hitRate, 1);
  assert.throws(() => partPointing(one, [1, h, w], { ...single, offsets: [0] }), /parts: offsets must have 2 entries/);
  assert.throws(() => partPointing(one, [1, h, w], { ...single, part: [3] }), /parts: entry 0 names part 3, out of range \[0, 1\)/);
});

test('localize on a VOC Part run reports the pointing game per part for each class-map method', async () => {
  const S = VOC_FIXTURE_SIZE;
  const root = await vocPartFixture(join(tmp, 'voc'));
  const run = fakeRun(join(tmp, 'run'), { dataset: 'voc-part', dataRoot: root, imageSize: S, strategy: 'csg', model: 'resnet20', cropPadding: 0 },
    { name: 'voc-part', classes: VOC_PART_CLASSES, channels: 3, height: S, width: S });
  const { report } = await localizeRun({ run, split: 'train', methods: ['cam', 'csgcam'], out: join(tmp, 'out') });
  for (const m of ['cam', 'csgcam'] as const) {
    const pp = (report.methods[m] as any).partPointing;
    assert.deepEqual(pp.map((p: any) => [p.part, p.images]), [['head', 1], ['torso', 1]], 'the cat shows head and torso; the dog has no parts');
    for (const p of pp) assert.ok(p.hitRate === 0 || p.hitRate === 1);
  }
  const other = await localizeRun({ run, dataset: { name: 'voc-part', root }, split: 'test', methods: ['cam'], out: join(tmp, 'out2') });
  assert.deepEqual((other.report.methods.cam as any).partPointing, [{ part: 'beak', images: 1, hitRate: (other.report.methods.cam as any).pointingGame.overall.hitRate },
    { part: 'lwing', images: 0, hitRate: NaN }], 'the bird: its beak is its whole object mask; the empty wing does not count');
});
