// Trainer events and RUN_DIR/events.jsonl on a tiny LeNet run: the order of the lines, the batch
// throttle, each stop reason (finished, interrupted with the signal's reason, stop-after, error), a
// resumed run appending after a torn line, and the CLI's train command writing the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { CIFAR_PRESET, type TrainConfig } from '../src/csg/config.js';
import { Trainer, TrainingError, combineEvents, readMetrics, type TrainEvents } from '../src/csg/trainer.js';
import { EVENTS_FILE, eventsLog, parseEvents, readEvents, type RunEvent } from '../src/csg/events_log.js';
import { CLI, runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-events-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function cfg(over: Partial<TrainConfig> = {}): TrainConfig {
  return { ...structuredClone(CIFAR_PRESET), dataset: 'fashion-mnist', model: 'lenet', epochs: 2, batchSize: 16, limit: 256, valLimit: 64, threads: 1,
    period: 2, phaseMin: 1, ...over };
}

/** A clock that advances 100 ms at each reading: with a 250 ms interval every third batch is logged. */
function steppingClock(): () => number {
  let t = 0;
  return () => (t += 100);
}

const kinds = (es: RunEvent[]) => es.map((e) => e.event);
const silent = () => {};

test('a finished run: runStart, per epoch epochStart, throttled batches, checkpoint, epochEnd, then stop finished', async () => {
  const dir = join(tmp, 'finished');
  const t = await Trainer.create(cfg(), { outDir: dir, log: silent });
  await t.run({ events: eventsLog(dir, { batchIntervalMs: 250, now: steppingClock() }) });
  const es = readEvents(dir);
  const perEpoch = ['epochStart', ...Array(6).fill('batch'), 'checkpoint', 'epochEnd'];
  assert.deepEqual(kinds(es), ['runStart', ...perEpoch, ...perEpoch, 'stop']);
  const start = es[0] as Extract<RunEvent, { event: 'runStart' }>;
  assert.equal(start.epochs, 2);
  assert.equal(start.startEpoch, 0);
  assert.equal(start.startBatch, 0);
  assert.equal(start.resumed, false);
  assert.equal(start.batchesPerEpoch, 16);
  assert.equal(start.config.model, 'lenet');
  const batches = es.filter((e): e is Extract<RunEvent, { event: 'batch' }> => e.event === 'batch');
  // 100 ms per batch, at most one line per 250 ms, and always the epoch's last batch.
  assert.deepEqual(batches.map((b) => `${b.epoch}:${b.batch}/${b.batches}`),
    ['0:1/16', '0:4/16', '0:7/16', '0:10/16', '0:13/16', '0:16/16', '1:1/16', '1:4/16', '1:7/16', '1:10/16', '1:13/16', '1:16/16']);
  assert.ok(batches.every((b) => Number.isFinite(b.loss) && b.acc >= 0 && b.acc <= 1 && b.images === 16));
  const ends = es.filter((e): e is Extract<RunEvent, { event: 'epochEnd' }> => e.event === 'epochEnd');
  assert.deepEqual(ends.map((e) => e.metrics), readMetrics(dir), 'epochEnd lines carry the metrics.jsonl lines');
  const ckpt = es.find((e) => e.event === 'checkpoint') as Extract<RunEvent, { event: 'checkpoint' }>;
  assert.deepEqual({ file: ckpt.file, epoch: ckpt.epoch, nextBatch: ckpt.nextBatch }, { file: join('checkpoints', 'last.safetensors'), epoch: 1, nextBatch: 0 });
  const last = es.at(-1) as Extract<RunEvent, { event: 'stop' }>;
  assert.deepEqual({ reason: last.reason, epoch: last.epoch, nextBatch: last.nextBatch, detail: last.detail }, { reason: 'finished', epoch: 2, nextBatch: 0, detail: undefined });
  const times = es.map((e) => Date.parse(e.time));
  assert.ok(times.every((x, i) => Number.isFinite(x) && (i === 0 || x >= times[i - 1])), 'ISO timestamps in order');
});

test('abort mid-epoch: stop interrupted with the reason; resume after a torn line appends runStart resumed ... stop finished', async () => {
  const dir = join(tmp, 'aborted');
  const stop = new AbortController();
  const t = await Trainer.create(cfg(), { outDir: dir, log: silent });
  const abortAt: TrainEvents = { batch: (b) => { if (t.epoch === 1 && b.batch === 3) stop.abort('SIGINT'); } };
  const r = await t.run({ signal: stop.signal, events: combineEvents(eventsLog(dir, { batchIntervalMs: 0 }), abortAt) });
  assert.equal(r.interrupted, true);
  const first = readEvents(dir);
  const end = first.at(-1) as Extract<RunEvent, { event: 'stop' }>;
  assert.deepEqual({ event: end.event, reason: end.reason, epoch: end.epoch, nextBatch: end.nextBatch, detail: end.detail },
    { event: 'stop', reason: 'interrupted', epoch: 1, nextBatch: 3, detail: 'SIGINT' });
  // With no throttle every batch is logged, up to the one the abort came in.
  assert.deepEqual(first.filter((e) => e.event === 'batch' && e.epoch === 1).map((e: any) => e.batch), [1, 2, 3]);
  assert.equal(first.at(-2)!.event, 'checkpoint', 'the interrupt saved a checkpoint before stopping');

  // A writer killed mid-line: the torn piece is skipped, the next writer starts on a new line.
  appendFileSync(join(dir, EVENTS_FILE), '{"time":"2026-01-01T00:00:00.000Z","event":"bat');
  const t2 = await Trainer.resume({ outDir: dir, log: silent });
  await t2.run({ events: eventsLog(dir) });
  const all = readEvents(dir);
  assert.deepEqual(all.slice(0, first.length), first, 'the first call\'s lines are kept as they were');
  const again = all.slice(first.length);
  assert.equal(again[0].event, 'runStart');
  assert.deepEqual([(again[0] as any).resumed, (again[0] as any).startEpoch, (again[0] as any).startBatch], [true, 1, 3]);
  assert.deepEqual((again[1] as any).startBatch, 3, 'epochStart says where the epoch resumes');
  assert.equal((all.at(-1) as any).reason, 'finished');
  const text = readFileSync(join(dir, EVENTS_FILE), 'utf8');
  assert.equal(text.split('\n').filter((l) => l.trim()).length, all.length + 1, 'exactly the torn line is skipped');
  assert.equal(parseEvents(text + '{"time":"x","event":"ba').length, all.length, 'a torn last line is skipped');
});

test('stop-after and error are reported as such', async () => {
  const dir = join(tmp, 'partial');
  const t = await Trainer.create(cfg({ epochs: 3 }), { outDir: dir, log: silent });
  await t.run({ stopAfterEpochs: 1, events: eventsLog(dir) });
  const s1 = readEvents(dir).at(-1) as any;
  assert.deepEqual([s1.event, s1.reason, s1.epoch, s1.nextBatch], ['stop', 'stop-after', 1, 0]);
  torch.noGrad(() => t.model.fc.weight.fill_(NaN));
  await assert.rejects(t.run({ events: eventsLog(dir) }), TrainingError);
  const s2 = readEvents(dir).at(-1) as any;
  assert.deepEqual([s2.event, s2.reason, s2.epoch, s2.nextBatch], ['stop', 'error', 1, 0]);
  assert.match(s2.detail, /loss is NaN at epoch 1, batch 0/);
});

test('an unwritable events log is reported once and training goes on', async () => {
  const dir = join(tmp, 'unwritable');
  const t = await Trainer.create(cfg({ epochs: 1, limit: 64 }), { outDir: dir, log: silent });
  const lines: string[] = [];
  // A folder where the file should be: every append fails with EISDIR.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, EVENTS_FILE));
  const r = await t.run({ events: eventsLog(dir, { log: (s) => lines.push(s) }) });
  assert.equal(r.completed, true);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /events\.jsonl: cannot write \(EISDIR\); training goes on/);
});

test('csgnet train writes RUN_DIR/events.jsonl', () => {
  const dir = join(tmp, 'cli');
  const r = runCli(['train', '--out', dir, '--dataset', 'fashion-mnist', '--model', 'lenet', '--epochs', '1', '--allow-no-csg', '--batch', '32',
    '--limit', '64', '--val-limit', '32', '--threads', '1', '--progress', 'none'], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const es = readEvents(dir);
  assert.deepEqual(kinds(es), ['runStart', 'epochStart', 'batch', 'batch', 'checkpoint', 'epochEnd', 'stop']);
  assert.equal((es.at(-1) as any).reason, 'finished');
});
