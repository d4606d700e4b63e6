// Flags that used to be accepted with surprising results (issue 22) are refused by name before any work:
// an empty --methods list (it replaced earlier localization results), --eps with an empty item or hex,
// a --port beyond 65535, and --host beyond loopback without --allow-remote; a CSG schedule that never gates,
// --split val without a validation split.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nameList, numList } from '../src/cli/options.js';
import { countProgress, duration } from '../src/cli/progress.js';
import { noCsgEpochReason } from '../src/csg/schedule.js';
import { FASHION_MNIST_CLASSES } from '../src/data/index.js';
import { fakeRun } from './support/fake_run.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-guards-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const csgnet = (...args: string[]) => runCli(args);

test('numList takes decimal numbers only; nameList a non-empty list of known names', () => {
  assert.deepEqual(numList('0.1, 2,1e-3,.5'), [0.1, 2, 0.001, 0.5]);
  for (const bad of ['0.1,,0.2', '', '0x10', '1/2', 'Infinity', '0.1,abc']) assert.throws(() => numList(bad), /decimal numbers/, bad);
  const p = nameList(['cam', 'gradcam']);
  assert.deepEqual(p(' cam, gradcam '), ['cam', 'gradcam']);
  assert.throws(() => p(','), /at least one of cam, gradcam/);
  assert.throws(() => p(''), /at least one/);
  assert.throws(() => p('cam,nope'), /unknown nope/);
  assert.throws(() => p('cam,cam'), /names one twice/);
});

test('localize --methods "," is refused and leaves earlier results as they were', () => {
  const run = join(tmp, 'run');
  mkdirSync(join(run, 'localization'), { recursive: true });
  writeFileSync(join(run, 'config.json'), '{}');
  writeFileSync(join(run, 'localization', 'localization.json'), '{"earlier":true}');
  for (const m of [',', '']) {
    const r = csgnet('localize', '--run', run, '--methods', m);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /option '--methods <list>' argument .* is invalid\. expected at least one of cam, gradcam/);
  }
  assert.equal(readFileSync(join(run, 'localization', 'localization.json'), 'utf8'), '{"earlier":true}');
});

test('--eps, --port and --host are checked by name', () => {
  for (const [eps, why] of [['0.1,,0.2', /an empty item/], ['0x10', /'0x10'/]] as const) {
    const r = csgnet('adversarial', '--run', tmp, '--eps', eps);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /option '--eps <list>' argument .* is invalid\. expected comma-separated decimal numbers/);
    assert.match(r.stderr, why);
  }
  const port = csgnet('dashboard', '--runs', tmp, '--port', '70000');
  assert.notEqual(port.status, 0);
  assert.match(port.stderr, /--port <n>' argument '70000' is invalid\. expected a port from 0 to 65535/);
  const host = csgnet('dashboard', '--runs', tmp, '--host', '0.0.0.0', '--port', '0');
  assert.notEqual(host.status, 0);
  assert.match(host.stderr, /--host 0\.0\.0\.0 would share the dashboard .* add --allow-remote/);
});

test('train --strategy csg whose schedule reaches no CSG epoch is refused before any work, unless --allow-no-csg', () => {
  const out = join(tmp, 'nocsg');
  const r = csgnet('train', '--strategy', 'csg', '--epochs', '2', '--out', out);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--strategy csg with --epochs 2 reaches no CSG epoch \(with --warmup 0 --period 3 --phase-min 2 the first CSG epoch is epoch 3 \(--epochs 3 or more\)\): the gate would keep its initial value \(--gate-init\) .*; train more epochs, or pass --allow-no-csg/);
  assert.equal(existsSync(out), false, 'no run folder');
  const never = csgnet('train', '--strategy', 'csg', '--epochs', '9', '--period', '2', '--phase-min', '2', '--out', out);
  assert.match(never.stderr, /--warmup 0 --period 2 --phase-min 2 has no CSG epoch at all/);
  const demo = csgnet('demo', '--epochs', '2', '--out', out);
  assert.match(demo.stderr, /demo: --epochs 2 reaches no CSG epoch/);
  assert.equal(existsSync(out), false, 'the demo trained nothing');
  // The flag lets it through to the next check (here: a dataset folder that does not exist).
  const allowed = csgnet('train', '--strategy', 'csg', '--epochs', '2', '--allow-no-csg', '--dataset', 'mnist', '--data-root', join(tmp, 'none'), '--out', out);
  assert.match(allowed.stderr, /^warning \(--allow-no-csg\): --strategy csg with --epochs 2 reaches no CSG epoch/);
  assert.match(allowed.stderr, /not found in .*none \(--data-root\)/);
  assert.equal(noCsgEpochReason(3, { strategy: 'csg', warmup: 0, period: 3, phaseMin: 2 }), null);
  assert.equal(noCsgEpochReason(1, { strategy: 'std', warmup: 0, period: 3, phaseMin: 2 }), null);
  assert.match(noCsgEpochReason(4, { strategy: 'csg', warmup: 3, period: 3, phaseMin: 2 })!, /the first CSG epoch is epoch 6/);
});

test('--split val of a run trained without --val-fraction is an error naming the flag, not the test split relabelled', () => {
  const run = fakeRun(join(tmp, 'noval'), { dataset: 'fashion-mnist', model: 'lenet', strategy: 'std', valFraction: 0 },
    { name: 'fashion-mnist', classes: FASHION_MNIST_CLASSES, channels: 1, height: 28, width: 28 });
  for (const cmd of ['eval', 'features']) {
    const r = csgnet(cmd, '--run', run, '--split', 'val', ...(cmd === 'features' ? ['--out', join(tmp, 'f')] : []));
    assert.notEqual(r.status, 0, cmd);
    assert.match(r.stderr, /--split val: run .*noval has no validation split \(it was trained without --val-fraction\); use --split test or train/, cmd);
  }
  assert.equal(existsSync(join(tmp, 'f')), false);
});

test('a plain count progress gives its first ETA after the first batch, not "0 s" at the start', async () => {
  const lines: string[] = [];
  const p = countProgress('plain', 'attack', 145877, (l) => lines.push(l));
  p.update(0);
  await new Promise((r) => setTimeout(r, 50));
  p.update(100);
  p.update(200);
  assert.equal(lines[0], 'attack: 0/145877 (ETA after the first batch)');
  assert.equal(lines.length, 2, lines.join('\n'));
  const eta = /^attack: 100\/145877, ETA (\d+) (s|min)$/.exec(lines[1]!);
  assert.ok(eta && Number(eta[1]) > 0, lines[1]);
  assert.deepEqual([duration(42), duration(1020), duration(16920)], ['42 s', '17 min', '4.7 h']);
});
