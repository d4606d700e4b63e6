// The dashboard in a real browser (Debian's chromium via playwright-core): a training started during
// the test (a child process running `csgnet train`) appears in the run list, its page shows the epoch
// progress and a chart that gains points while it trains, and traversal URLs get 403/404. Screenshots
// go to artifacts/screenshots/ (test/support/browser.ts), which CI keeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess } from 'node:child_process';
import { browserMissing, collectErrors, launchChromium, screenshotPath } from './support/browser.js';
import { startDashboard } from '../src/app/dashboard/server.js';
import { spawnCli } from './support/cli.js';

const missing = browserMissing();
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-dash-browser-'));
const root = join(tmp, 'runs');
mkdirSync(root);
const EPOCHS = 5;
let child: ChildProcess | null = null;
after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

test('a run started during the test appears, trains with live progress and a growing chart; traversal is refused', { skip: missing ?? false, timeout: 120_000 }, async () => {
  const dash = await startDashboard({ runsDir: root, port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    const errors = collectErrors(page);
    await page.goto(dash.url);
    await page.locator('#no-runs').waitFor({ state: 'visible' });

    let stderr = '';
    child = spawnCli(['train', '--out', join(root, 'live'), '--dataset', 'fashion-mnist', '--model', 'lenet', '--strategy', 'csg',
      '--epochs', String(EPOCHS), '--batch', '32', '--limit', '512', '--val-limit', '128', '--threads', '1', '--period', '2', '--phase-min', '1',
      '--progress', 'none'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child!.on('exit', (c) => res(c)));

    // The new run shows up by itself (the list is a live stream), as training.
    const row = page.locator('#runs tr[data-run="live"]');
    await row.waitFor({ timeout: 30_000 });
    assert.equal(await row.getAttribute('data-status'), 'training');
    await row.click();
    await page.waitForURL(/#\/run\/live$/);

    const points = async () => Number(await page.locator('#chart').getAttribute('data-points'));
    const symbols = () => page.locator('#chart g.mark-symbol.role-mark path').count();
    await page.locator('#chart svg').waitFor({ timeout: 30_000 });
    const before = await points();
    assert.ok(before < EPOCHS, `opened while training (${before} of ${EPOCHS} epochs drawn)`);
    // The epoch's progress is shown while it trains.
    await page.locator('#progress .text').filter({ hasText: new RegExp(`epoch \\d+/${EPOCHS} (std|csg) · batch \\d+/16`) }).waitFor({ timeout: 30_000 });
    await page.waitForFunction((n) => Number(document.querySelector('#chart')!.getAttribute('data-points')) > n, before, { timeout: 30_000 });
    const grown = await points();
    assert.ok(grown > before);
    // Three series (train loss, train acc, val acc) draw one point per epoch; another epoch may have come in meanwhile.
    assert.ok(await symbols() >= 3 * grown, `${await symbols()} points drawn for ${grown} epochs`);
    await page.screenshot({ path: screenshotPath('dashboard-training.png') });

    assert.equal(await exited, 0, stderr);
    await page.locator('#run-status').filter({ hasText: 'finished' }).waitFor({ timeout: 15_000 });
    await page.waitForFunction((n) => Number(document.querySelector('#chart')!.getAttribute('data-points')) === n, EPOCHS, { timeout: 15_000 });
    assert.equal(await symbols(), 3 * EPOCHS);
    assert.equal(await page.locator('#metrics tbody tr').count(), EPOCHS);
    await page.locator('#runs tr[data-run="live"][data-status="finished"]').waitFor({ timeout: 10_000 });
    assert.ok(await page.locator('#progress').isHidden(), 'no progress bar once finished');
    await page.screenshot({ path: screenshotPath('dashboard-finished.png') });

    // The report link: the instructions while there is none, the file once written.
    const reportUrl = new URL('/runs/live/report', dash.url).href;
    const none = await page.goto(reportUrl);
    assert.equal(none!.status(), 404);
    assert.match(await page.locator('pre').innerText(), /csgnet report .*live --out .*live\/report\.html/);
    writeFileSync(join(root, 'live', 'report.html'), '<!doctype html><title>report</title><h1 id="r">the report of live</h1>');
    assert.equal((await page.goto(reportUrl))!.status(), 200);
    assert.equal(await page.locator('#r').innerText(), 'the report of live');

    for (const [path, codes] of [['/runs/..%2f..%2fetc/report', [403]], ['/runs/%2e%2e/%2e%2e/etc/passwd', [404]], ['/api/runs/live%5c..%5c..%5c/metrics', [403]]] as const) {
      const r = await page.goto(new URL(path, dash.url).href);
      assert.ok((codes as readonly number[]).includes(r!.status()), `${path}: ${r!.status()}`);
    }
    assert.deepEqual(errors.filter((e) => !/status of 40[34]/.test(e)), [], 'no errors on the page (CSP violations included)');
  } finally {
    await browser.close();
    await dash.close();
  }
});

test('started with --allow-remote on 0.0.0.0, the page says the runs are shared with the network; on loopback it does not', { skip: missing ?? false, timeout: 60_000 }, async () => {
  const shared = await startDashboard({ runsDir: root, port: 0, host: '0.0.0.0', allowRemote: true });
  const local = await startDashboard({ runsDir: root, port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`http://127.0.0.1:${new URL(shared.url).port}/`);
    await page.locator('#shared').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await page.locator('#shared').innerText(), /shared with the network/);
    await page.goto(local.url);
    await page.locator('#runs, #no-runs').first().waitFor({ state: 'attached' });
    await page.waitForFunction(() => document.querySelector('#shared') !== null);
    await page.waitForTimeout(500); // the run list has arrived (it sets the banner)
    assert.ok(await page.locator('#shared').isHidden());
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await shared.close();
    await local.close();
  }
});
