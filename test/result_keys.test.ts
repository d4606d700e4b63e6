// Result JSON key case: localization.json is camelCase, every result names its checkpoint key
// `checkpointKey`; files written before (snake_case keys) read as the same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisKey, readCurrentResult } from '../src/app/analysis_key.js';
import { readLocalizationSummary } from '../src/app/localization_summary.js';
import { normalizeResultKeys } from '../src/csg/results.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-keys-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function runFolder(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: { model: 'resnet20', strategy: 'csg' },
    dataset: { name: 'cluttered-fashion-mnist', classes: ['a', 'b'], channels: 1, height: 48, width: 48 } }));
  writeFileSync(join(dir, 'checkpoints', 'last.safetensors'), 'weights');
  return dir;
}

const classMap = (iou: number, box: number) => ({
  top30Iou: { overall: { meanIoU: iou, hitRate: 0.5 }, perClass: [{ meanIoU: iou, hitRate: 0.5 }, null] },
  maxBoxAccV2: { overall: { maxBoxAccV2: box, perDelta: [] } }, pxap: { overall: { pxap: 0.7 } },
  pointingGame: { overall: { hitRate: 0.6 } }, energyPointingGame: { overall: { energy: 0.2 } },
  partPointing: [{ part: 'beak', images: 1, hitRate: 1 }],
});

/** localization.json as localize writes it now. */
function current(dir: string) {
  return {
    run: dir, checkpoint: 'checkpoints/last.safetensors', checkpointKey: analysisKey(dir, { checkpoint: 'last' }).checkpoint, epoch: 3, strategy: 'csg',
    settings: { dataset: { name: 'cluttered-fashion-mnist', root: null, own: true, canvas: 48, distractors: 6 }, split: 'test', images: 100,
      target: 'label', methods: ['csgcam', 'cam'], height: 48, width: 48, gradmapFilters: 8 },
    classes: ['a', 'b'],
    methods: { csgcam: classMap(0.41, 0.63), cam: classMap(0.31, 0.33), activmap: { overall: { meanIoU: 0.9, successRate: 0.8, filters: 3 } } },
  };
}

/** The same file in the shape csgnet wrote before the rename (snake_case section and file-level keys). */
function older(dir: string) {
  const { checkpointKey, settings: { gradmapFilters, ...settings }, methods, ...rest } = current(dir);
  const old = (m: ReturnType<typeof classMap>) => ({ top30_iou: m.top30Iou, max_box_acc_v2: m.maxBoxAccV2, pxap: m.pxap,
    pointing_game: m.pointingGame, energy_pointing_game: m.energyPointingGame, part_pointing: m.partPointing });
  return { ...rest, checkpoint_key: checkpointKey, settings: { ...settings, gradmap_filters: gradmapFilters },
    methods: { csgcam: old(methods.csgcam), cam: old(methods.cam), activmap: methods.activmap } };
}

test('an old-format localization.json (snake_case keys) reads as the same values as a new one', () => {
  const a = runFolder('new'), b = runFolder('old');
  mkdirSync(join(a, 'localization')); mkdirSync(join(b, 'localization'));
  writeFileSync(join(a, 'localization', 'localization.json'), JSON.stringify(current(a)));
  writeFileSync(join(b, 'localization', 'localization.json'), JSON.stringify(older(b)));

  // compare's figures.
  const want = (dir: string) => analysisKey(dir, { checkpoint: 'last' }).checkpoint;
  const sa = readLocalizationSummary(a, want(a), 'test'), sb = readLocalizationSummary(b, want(b), 'test');
  assert.equal(sb.why, '');
  assert.deepEqual(sb.summary!.methods, sa.summary!.methods);
  assert.deepEqual(sb.summary!.methods.csgcam, { mean_iou: 0.41, hit_rate: 0.5, max_box_acc_v2: 0.63, pxap: 0.7 });

  // What the report and the freshness test read: the whole file, renamed; the old file is current.
  const ra = readCurrentResult<ReturnType<typeof current>>(join(a, 'localization', 'localization.json'), want(a));
  const rb = readCurrentResult<ReturnType<typeof current>>(join(b, 'localization', 'localization.json'), want(b));
  assert.equal(rb.why, '');
  assert.deepEqual({ ...rb.result!, run: '', checkpointKey: null }, { ...ra.result!, run: '', checkpointKey: null });
  assert.equal(rb.result!.checkpointKey.sha256, want(b).sha256);
});

test('normalizeResultKeys renames only the listed keys, at any depth; data keys and a present new name are kept', () => {
  assert.deepEqual(normalizeResultKeys({ checkpoint_key: 1, a_b: { top30_iou: [{ part_pointing: 2 }] }, classes: ['top30_iou'] }),
    { checkpointKey: 1, a_b: { top30Iou: [{ partPointing: 2 }] }, classes: ['top30_iou'] });
  assert.deepEqual(normalizeResultKeys({ checkpointKey: 'new', checkpoint_key: 'old' }), { checkpointKey: 'new' });
  assert.equal(normalizeResultKeys(null), null);
});
