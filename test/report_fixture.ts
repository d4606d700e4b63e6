// Two tiny runs for the report tests (a CSG run on cluttered Fashion-MNIST with a localization and an
// adversarial folder, an STD run on Fashion-MNIST), trained once per test process, and their report.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localizeRun } from '../src/app/localize.js';
import { analysisKey, type CheckpointKey } from '../src/app/analysis_key.js';
import type { AdversarialReport } from '../src/csg/results.js';
import { writeReport, type ReportOptions } from '../src/app/report.js';
import { runCli } from './support/cli.js';

export const GALLERY_IMAGES = 200;
/** Small enough to be fast, large enough for the MI estimator. */
export const REPORT_OPTIONS: Omit<ReportOptions, 'runs' | 'out'> = { analysisLimit: 200, galleryImages: GALLERY_IMAGES, filtersPerClass: 3, imagesPerFilter: 8 };

const metrics = (auroc: number, roc: { fpr: number[]; tpr: number[] }) =>
  ({ auroc, tnr_at_95_tpr: 0.5, detection_accuracy: 0.8, tnr_threshold: 1, accuracy_threshold: 0.5, roc });
const setting = (attack: 'fgsm' | 'pgd', detectors: AdversarialReport['attacks'][number]['detectors']) => ({
  key: `${attack}@0.1`, attack, eps: 0.1, adaptive_weight: null, options: {}, attacked: 60, successful: 50, success_rate: 50 / 60, mean_linf: 0.1, mean_l2: 1.5,
  selected: 40, fit: { images: 4, samples: 12 }, eval: { images: 20, samples: 60 }, detectors });

/** An adversarial.json as csgnet adversarial writes it (two settings, two detectors; few samples, so a warning). */
export function adversarialJson(checkpointKey: CheckpointKey): AdversarialReport {
  return {
    run: 'csg', checkpoint: 'last.safetensors', epoch: 2, model: 'resnet20', strategy: 'csg', checkpointKey, protocol: 'Lee et al. style.',
    settings: { split: 'test', images: 100, attacks: ['fgsm', 'pgd'], eps: [0.1], l2_eps: [], detectors: ['gate', 'mahalanobis'], fit_fraction: 0.1, seed: 0,
      adaptive_weights: [], transfer: false, fit_train_images: 128, batch: 100, noise: 'gaussian', cw: 'none' },
    classes: ['a', 'b'], clean: { images: 100, correct: 60, accuracy: 0.6 }, split: { fit_images: [1, 2], eval_images: 98 },
    attacks: [
      setting('fgsm', { gate: metrics(0.875, { fpr: [0, 0.1, 0.5, 1], tpr: [0, 0.6, 0.9, 1] }), mahalanobis: { skipped: 'too few samples' } }),
      setting('pgd', { gate: { skipped: 'too few samples' }, mahalanobis: metrics(0.75, { fpr: [0, 0.2, 1], tpr: [0, 0.5, 1] }) }),
    ],
    transfer: [],
  };
}

export interface Fixture { tmp: string; csg: string; std: string; html: string; file: string }

let made: Promise<Fixture> | undefined;

function train(args: string[]): void {
  const r = runCli(['train', '--model', 'resnet20', '--epochs', '2', '--limit', '128', '--val-limit', '64', '--batch', '32',
    '--period', '2', '--phase-min', '1', '--threads', '1', '--progress', 'none', ...args], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
}

async function make(): Promise<Fixture> {
  const tmp = mkdtempSync(join(tmpdir(), 'csgnet-report-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const csg = join(tmp, 'csg'), std = join(tmp, 'std');
  train(['--dataset', 'cluttered-fashion-mnist', '--canvas', '48', '--strategy', 'csg', '--out', csg]);
  train(['--dataset', 'fashion-mnist', '--strategy', 'std', '--out', std]);
  await localizeRun({ run: csg, limit: 16, methods: ['cam', 'csgcam', 'activmap'], out: join(csg, 'localization') });
  mkdirSync(join(csg, 'adversarial'));
  // With the run's checkpoint key, as csgnet adversarial writes it: the report shows only its own run's results.
  writeFileSync(join(csg, 'adversarial', 'adversarial.json'), JSON.stringify(adversarialJson(analysisKey(csg, { checkpoint: 'last' }).checkpoint)));
  const file = join(tmp, 'report.html');
  const r = await writeReport({ runs: [csg, std], out: file, ...REPORT_OPTIONS, title: 'Tiny <runs> & "gates"' });
  return { tmp, csg, std, html: (await import('node:fs')).readFileSync(r.file, 'utf8'), file };
}

/** The fixture, made on first use. */
export function reportFixture(): Promise<Fixture> {
  made ??= make();
  return made;
}
