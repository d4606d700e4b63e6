// Two tiny runs for the report tests (a CSG run on cluttered Fashion-MNIST with a localization and an
// adversarial folder, an STD run on Fashion-MNIST), trained once per test process, and their report.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from '../src/util/paths.js';
import { localizeRun } from '../src/app/localize.js';
import { analysisKey } from '../src/app/analysis_key.js';
import { writeReport, type ReportOptions } from '../src/app/report.js';

export const GALLERY_IMAGES = 200;
/** Small enough to be fast, large enough for the MI estimator. */
export const REPORT_OPTIONS: Omit<ReportOptions, 'runs' | 'out'> = { analysisLimit: 200, galleryImages: GALLERY_IMAGES, filtersPerClass: 3, imagesPerFilter: 8 };

/** A made-up adversarial.json in a layout the report does not know: curves are found by their fpr/tpr arrays. */
export const ADVERSARIAL = {
  results: [
    { model: 'csg', attack: 'fgsm', eps: 0.1, detector: 'gate-consistency', auroc: 0.875, roc: { fpr: [0, 0.1, 0.5, 1], tpr: [0, 0.6, 0.9, 1] } },
    { model: 'csg', attack: 'pgd', eps: 0.1, detector: 'mahalanobis', auroc: 0.75, roc: { fpr: [0, 0.2, 1], tpr: [0, 0.5, 1] } },
  ],
};
export const ADVERSARIAL_MD = '# Detection\n\n| attack | detector | AUROC |\n| --- | --- | --- |\n| fgsm | gate-consistency | 0.875 |\n| pgd | mahalanobis | 0.750 |\n';

export interface Fixture { tmp: string; csg: string; std: string; html: string; file: string }

let made: Promise<Fixture> | undefined;

function train(args: string[]): void {
  const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const r = spawnSync('node', [cli, 'train', '--model', 'resnet20', '--epochs', '2', '--limit', '128', '--val-limit', '64', '--batch', '32',
    '--period', '2', '--phase-min', '1', '--threads', '1', '--progress', 'none', ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
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
  writeFileSync(join(csg, 'adversarial', 'adversarial.json'), JSON.stringify({ ...ADVERSARIAL, checkpoint_key: analysisKey(csg, { checkpoint: 'last' }).checkpoint }));
  writeFileSync(join(csg, 'adversarial', 'adversarial.md'), ADVERSARIAL_MD);
  const file = join(tmp, 'report.html');
  const r = await writeReport({ runs: [csg, std], out: file, ...REPORT_OPTIONS, title: 'Tiny <runs> & "gates"' });
  return { tmp, csg, std, html: (await import('node:fs')).readFileSync(r.file, 'utf8'), file };
}

/** The fixture, made on first use. */
export function reportFixture(): Promise<Fixture> {
  made ??= make();
  return made;
}
