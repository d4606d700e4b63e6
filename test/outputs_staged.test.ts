// Results folders (localize, adversarial, export --html) are replaced as a whole, and only when the new results are complete (issue 22): a
// localize or adversarial run that is killed, stopped or fails leaves the earlier folder exactly as it
// was (no new arrays beside old JSON), removes its temp folder (or the next run does, after a kill),
// and a complete rerun leaves nothing of the earlier one behind. Untrained LeNet runs keep it fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FASHION_MNIST_CLASSES } from '../src/data/index.js';
import { localizeRun } from '../src/app/localize.js';
import { adversarialRun, type AdversarialOptions } from '../src/app/adversarial.js';
import { writeExplorerSite } from '../src/app/explore.js';
import { fakeRun } from './support/fake_run.js';
import { runCli, spawnCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-staged-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, OMP_NUM_THREADS: '1' };

/** Every file under `dir` (relative path -> bytes as hex), to compare a folder before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p).toString('hex');
    }
  };
  walk(dir);
  return out;
}

/** The temp and set-aside folders StagedDir leaves beside `name` in `parent`. */
const temps = (parent: string, name: string) => readdirSync(parent).filter((n) => n.startsWith(`.${name}.`));

const S = 48;
const locRun = fakeRun(join(tmp, 'loc'), { dataset: 'cluttered-fashion-mnist', canvas: S, strategy: 'csg', model: 'lenet' },
  { name: 'cluttered-fashion-mnist', classes: FASHION_MNIST_CLASSES, channels: 1, height: S, width: S });

test('localize replaces RUN/localization as a whole; a kill while writing leaves the earlier results untouched', async () => {
  const out = join(locRun, 'localization');
  const first = await localizeRun({ run: locRun, limit: 8, batchSize: 8, methods: ['cam', 'gradcam'], saveMaps: true });
  assert.deepEqual(first.files.map((f) => relative(out, f)).sort(), ['labels.npy', 'localization.json', 'maps/cam.npy', 'maps/gradcam.npy', 'masks.npy', 'overlays.png']);
  for (const f of first.files) assert.ok(existsSync(f), f);
  const before = snapshot(out);

  // Killed (SIGKILL) while writing its last file: the earlier folder is exactly as it was.
  const killed = runCli(['localize', '--run', locRun, '--limit', '8', '--methods', 'cam', '--progress', 'none', '--threads', '1'],
    { env: { ...env, CSGNET_FAULT: 'before-rename:overlays.png@1' } });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  assert.deepEqual(snapshot(out), before, 'a killed localize changed the earlier results');
  assert.equal(temps(locRun, 'localization').length, 1, 'the killed run left its temp folder (the next run removes it)');

  // A complete rerun: only its own results (no maps/ of the earlier --save-maps), and no temp folder.
  const again = await localizeRun({ run: locRun, limit: 8, batchSize: 8, methods: ['cam'] });
  assert.deepEqual(readdirSync(out).sort(), ['localization.json', 'overlays.png']);
  assert.deepEqual(again.files, [join(out, 'localization.json'), join(out, 'overlays.png')]);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'localization.json'), 'utf8')).settings.methods, ['cam']);
  assert.deepEqual(temps(locRun, 'localization'), []);
});

const advRun = fakeRun(join(tmp, 'adv'), { dataset: 'fashion-mnist', strategy: 'std', model: 'lenet' },
  { name: 'fashion-mnist', classes: FASHION_MNIST_CLASSES, channels: 1, height: 28, width: 28 });
const advOut = join(advRun, 'adversarial');
const advBase: AdversarialOptions = { run: advRun, limit: 40, attacks: ['fgsm'], eps: [0.1], detectors: ['gate'], fitTrainLimit: 64, adaptiveWeights: [],
  batchSize: 2, saveAdversarial: true };
const advArgs = ['adversarial', '--run', advRun, '--limit', '40', '--attacks', 'fgsm', '--detectors', 'gate', '--fit-train-limit', '64', '--no-adaptive',
  '--batch', '2', '--save-adversarial', '--progress', 'none', '--threads', '1'];

test('adversarial: a stopped, a killed or a failing run leaves no mixed folder; a rerun starts from scratch', async () => {
  await adversarialRun(advBase);
  const before = snapshot(advOut);
  assert.ok(before['adversarial.json'] && before['npy/fgsm_eps0.1.npy'], Object.keys(before).join());

  // Stopped (as by Ctrl-C) after its first batch: an error that says so; nothing written, no temp folder.
  const stop = new AbortController();
  await assert.rejects(adversarialRun({ ...advBase, eps: [0.2], signal: stop.signal, progress: (done) => { if (done > 0) stop.abort(); } }),
    /^Error: interrupted: nothing was written to .*adversarial \(earlier results there are as they were\); a rerun starts from scratch$/);
  assert.deepEqual(snapshot(advOut), before);
  assert.deepEqual(temps(advRun, 'adversarial'), []);

  // Failing mid-way (here: its progress callback throws): the same.
  await assert.rejects(adversarialRun({ ...advBase, eps: [0.2], progress: (done) => { if (done > 0) throw new Error('boom'); } }), /boom/);
  assert.deepEqual(snapshot(advOut), before);
  assert.deepEqual(temps(advRun, 'adversarial'), []);

  // Killed after writing its arrays, before its JSON: no npy/fgsm_eps0.2.npy beside the earlier JSON.
  const killed = runCli([...advArgs, '--eps', '0.2'], { env: { ...env, CSGNET_FAULT: 'before-rename:adversarial.json@1' } });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  assert.deepEqual(snapshot(advOut), before, 'a killed adversarial run mixed its files into the earlier results');
  assert.equal(temps(advRun, 'adversarial').length, 1);

  // A complete rerun replaces the folder as a whole and removes the killed run's temp folder.
  const { files } = await adversarialRun({ ...advBase, eps: [0.2] });
  for (const f of files) assert.ok(f.startsWith(advOut + '/') && existsSync(f), f);
  assert.deepEqual(readdirSync(join(advOut, 'npy')).sort(), ['fgsm_eps0.2.npy', 'indices.npy', 'labels.npy']);
  assert.deepEqual(temps(advRun, 'adversarial'), []);
});

test('adversarial --help and Ctrl-C say that a rerun starts from scratch; the earlier results stay', async () => {
  const help = runCli(['adversarial', '--help']);
  assert.match(help.stdout.replace(/\s+/g, ' '), /a stopped run \(Ctrl-C\) writes nothing and a rerun starts from scratch/);
  if (!existsSync(advOut)) await adversarialRun(advBase); // run alone (--test-name-pattern)
  const before = snapshot(advOut);
  // CW one image at a time over 1000 images lasts long enough for the signal to arrive mid-way.
  const child = spawnCli([...advArgs, '--limit', '1000', '--batch', '1', '--attacks', 'cw'], { env });
  let stderr = '';
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (/preparing the gate detector/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /SIGINT: stopping after this batch; nothing is written and a rerun starts from scratch/);
  assert.match(stderr, /interrupted: nothing was written to .*adversarial \(earlier results there are as they were\); a rerun starts from scratch/);
  assert.deepEqual(snapshot(advOut), before);
  assert.deepEqual(temps(advRun, 'adversarial'), []);
});

test('export --html replaces an earlier site as a whole and refuses a folder of other files', async () => {
  const site = join(advRun, 'site');
  await writeExplorerSite(advRun, site, { samples: 3 });
  assert.deepEqual(readdirSync(join(site, 'samples')).sort(), ['000.png', '001.png', '002.png']);
  await writeExplorerSite(advRun, site, { samples: 1 });
  assert.deepEqual(readdirSync(join(site, 'samples')), ['000.png'], 'samples of the earlier site left behind');
  assert.deepEqual(JSON.parse(readFileSync(join(site, 'explorer.json'), 'utf8')).samples.length, 1);
  assert.deepEqual(temps(advRun, 'site'), []);
  const mine = join(tmp, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'index.html'), 'my page');
  writeFileSync(join(mine, 'photo.jpg'), 'mine');
  await assert.rejects(writeExplorerSite(advRun, mine), /^Error: --html .*mine: the folder exists and holds what this command did not write: photo\.jpg; choose a new or empty folder$/);
  assert.equal(readFileSync(join(mine, 'index.html'), 'utf8'), 'my page');
});
