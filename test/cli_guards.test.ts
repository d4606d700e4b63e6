// Flags that used to be accepted with surprising results (issue 22) are refused by name before any work:
// an empty --methods list (it replaced earlier localization results), --eps with an empty item or hex,
// a --port beyond 65535, and --host beyond loopback without --allow-remote.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from '../src/util/paths.js';
import { nameList, numList } from '../src/cli/options.js';

const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-guards-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const csgnet = (...args: string[]) => spawnSync('node', [cli, ...args], { encoding: 'utf8' });

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
