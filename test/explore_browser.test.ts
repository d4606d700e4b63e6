// The in-browser explorer in Debian's chromium (playwright-core): the static folder from
// `csgnet export --html`, served by a plain file server written here (any web server must do), classifies
// 20 test samples with onnxruntime-web; the page's logits, predictions and the confusion matrix they
// make equal csgnet's own forward and `csgnet eval` on the same 20 images; the filters shown are the
// ones the gate opens for the predicted class; no console errors; a screenshot. An untrained STD run on
// RGB images through `startExplorer` (the `csgnet explore` server): same logits, top filters, no gate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, sep } from 'node:path';
import { browserMissing, collectErrors, launchChromium, screenshotPath } from './support/browser.js';
import { openRun, runDataset, forEachBatch } from '../src/csg/run.js';
import * as torch from '../src/torch/index.js';
import { buildExplorerSite, startExplorer, type ExplorerMeta } from '../src/app/explore.js';
import { fakeRun } from './support/fake_run.js';
import { runCli } from './support/cli.js';

const missing = browserMissing();
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-explore-browser-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env, OMP_NUM_THREADS: '1' };
const N = 20;
const TOL = 1e-4;

const csgnet = (...args: string[]) => runCli(args, { env });
/** A LeNet on 512 Fashion-MNIST images, 2 epochs (about 5 s). */
function train(out: string, strategy: 'csg' | 'std'): void {
  const r = csgnet('train', '--dataset', 'fashion-mnist', '--model', 'lenet', '--strategy', strategy, '--epochs', '2', '--limit', '512', '--lr', '0.05',
    '--batch', '64', '--lambda', '0.01', '--period', '1', '--phase-min', '0', '--val-limit', '32', '--threads', '1', '--progress', 'none', '--out', out);
  assert.equal(r.status, 0, r.stderr);
}

/** csgnet's eval-path logits and labels of the first n test images (what `csgnet eval --limit n` computes). */
async function referenceLogits(run: string, n: number): Promise<{ logits: number[][]; labels: number[] }> {
  const opened = openRun(run, 'last');
  try {
    const ds = await runDataset(opened, 'test');
    const logits: number[][] = [], labels: number[] = [];
    forEachBatch(opened.model, ds, (_gap, l, y) => { logits.push(...(l.tolist() as number[][])); labels.push(...y); }, { limit: n });
    return { logits, labels };
  } finally {
    opened.model.dispose();
  }
}

/** A plain static file server over `dir` (what any web server does), with no csgnet code in it. */
async function serveFolder(dir: string): Promise<{ url: string; server: Server }> {
  const root = realpathSync(dir);
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '') || 'index.html';
    const path = join(root, rel);
    if (!path.startsWith(root + sep) || !existsSync(path) || !statSync(path).isFile()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

interface PagePrediction { index: number; label: number; pred: number; logits: number[]; probs: number[]; filters: number[]; silentFilters: number }

test('the static explorer folder in chromium: 20 test samples predicted as csgnet eval does, gate-chosen filters, no console errors', { skip: missing ?? false, timeout: 180_000 }, async () => {
  const run = join(tmp, 'csg'), site = join(tmp, 'site');
  train(run, 'csg');
  const exp = csgnet('export', '--run', run, '--html', site, '--json', '--threads', '1');
  assert.equal(exp.status, 0, exp.stderr);
  const written: string[] = JSON.parse(exp.stdout).files;
  for (const f of ['index.html', 'app.js', 'style.css', 'model.onnx', 'explorer.json', 'ort/ort.wasm.min.mjs', 'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm', 'samples/019.png']) {
    assert.ok(written.includes(f) && existsSync(join(site, f)), `${f} in the site`);
  }
  const meta: ExplorerMeta = JSON.parse(readFileSync(join(site, 'explorer.json'), 'utf8'));
  // The site built in memory (what `csgnet explore` serves) is the folder's, and frees its tensors.
  const live = torch.liveTensors();
  const inMemory = await buildExplorerSite(run, { samples: 2 });
  assert.equal(torch.liveTensors(), live, 'no live tensors left behind');
  assert.deepEqual(new Uint8Array(inMemory.get('model.onnx')!), new Uint8Array(readFileSync(join(site, 'model.onnx'))));
  assert.deepEqual(new Uint8Array(inMemory.get('samples/001.png')!), new Uint8Array(readFileSync(join(site, 'samples', '001.png'))));
  assert.equal(inMemory.has('samples/002.png'), false);
  assert.equal(meta.samples.length, N);
  assert.equal(meta.gate!.length, meta.numFilters);

  const { logits: refLogits, labels } = await referenceLogits(run, N);
  const evalOut = csgnet('eval', '--run', run, '--limit', String(N), '--json', '--threads', '1');
  assert.equal(evalOut.status, 0, evalOut.stderr);
  const evaluation = JSON.parse(evalOut.stdout);

  const { url, server } = await serveFolder(site);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(url);
    const got: PagePrediction[] = await page.evaluate(async (n) => {
      const x = (window as any).csgnetExplorer;
      await x.ready;
      const out = [];
      for (let i = 0; i < n; i++) out.push(await x.predict(i));
      return out;
    }, N);

    const C = meta.classNames.length;
    const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    let maxDiff = 0, shown = 0;
    for (const [i, p] of got.entries()) {
      assert.equal(p.label, labels[i], `sample ${i}: label`);
      const ref = refLogits[i]!;
      for (let c = 0; c < C; c++) maxDiff = Math.max(maxDiff, Math.abs(p.logits[c]! - ref[c]!));
      assert.equal(p.pred, ref.indexOf(Math.max(...ref)), `sample ${i}: the page's prediction is csgnet's argmax`);
      assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-6, 'probabilities sum to 1');
      confusion[p.label]![p.pred]++;
      // Shown filters: the ones the gate opens for the predicted class (at least half its largest entry).
      const column = meta.gate!.map((row) => row[p.pred]!);
      const top = Math.max(...column);
      const open = column.filter((g) => g >= 0.5 * top).length;
      assert.equal(p.filters.length, Math.min(12, open - p.silentFilters), `sample ${i}: ${p.filters.length} filters shown of ${open} open, ${p.silentFilters} silent`);
      shown += p.filters.length;
      for (const k of p.filters) assert.ok(column[k]! >= 0.5 * top, `sample ${i}: filter ${k} has G=${column[k]} for class ${p.pred} (largest ${top})`);
    }
    console.log(`# ${N} samples in chromium: max |logit - csgnet's| ${maxDiff.toExponential(2)}, accuracy ${evaluation.accuracy}`);
    assert.ok(shown > 0, 'some filters shown');
    assert.ok(maxDiff <= TOL, `max |logit difference| ${maxDiff} > ${TOL}`);
    assert.deepEqual(confusion, evaluation.confusion, 'the page\'s confusion matrix on the 20 samples is csgnet eval\'s');

    // The last prediction is on screen: probabilities of every class, one overlay per filter, the gate.
    const last = got[N - 1]!;
    assert.equal(await page.locator('#probs li').count(), C);
    assert.equal(await page.locator('#filters canvas').count(), last.filters.length);
    assert.match(await page.locator('#predicted').innerText(), new RegExp(`^${meta.classNames[last.pred]} `));
    assert.ok(await page.locator('#gate').isVisible());
    assert.match(await page.locator('#gate-note').innerText(), new RegExp(`${meta.numFilters} filters`));
    // A dropped image goes through the same path as a sample: the file input takes sample 3's PNG.
    await page.locator('#file').setInputFiles(join(site, 'samples', '003.png'));
    await page.locator('#status').filter({ hasText: /classified/ }).waitFor();
    await page.waitForFunction((name) => document.querySelector('#predicted')!.textContent!.startsWith(name + ' '), meta.classNames[got[3]!.pred]);
    assert.ok(await page.locator('#shared').isHidden(), 'a static folder does not claim to be shared');
    await page.screenshot({ path: screenshotPath('explorer.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await browser.close();
    await new Promise((res) => server.close(res));
  }
});

test('csgnet explore\'s server on an untrained STD run of RGB images: same logits as csgnet, top filters by activation, no gate; bad invocations name the problem', { skip: missing ?? false, timeout: 120_000 }, async () => {
  // An RGB image folder (3 classes of random 32x32 images) and a fresh STD LeNet on it: the page's RGB path.
  const images = join(tmp, 'rgb-images');
  const { default: sharp } = await import('sharp');
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const cls of ['a', 'b', 'c']) {
    mkdirSync(join(images, 'test', cls), { recursive: true });
    for (let i = 0; i < 2; i++) {
      const px = Uint8Array.from({ length: 32 * 32 * 3 }, () => Math.floor(256 * rand()));
      await sharp(Buffer.from(px), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(images, 'test', cls, `${i}.png`));
    }
  }
  const run = fakeRun(join(tmp, 'std'), { dataset: 'imagefolder', dataRoot: images, model: 'lenet', strategy: 'std' },
    { name: 'imagefolder', classes: ['a', 'b', 'c'], channels: 3, height: 32, width: 32, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] });
  // Shared with the network (--allow-remote): the page says so.
  const explorer = await startExplorer({ run, port: 0, samples: 3, host: '0.0.0.0', allowRemote: true });
  const url = `http://127.0.0.1:${new URL(explorer.url).port}/`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(url);
    const got: PagePrediction[] = await page.evaluate(async () => {
      const x = (window as any).csgnetExplorer;
      await x.ready;
      return [await x.predict(0), await x.predict(1), await x.predict(2)];
    });
    const { logits: ref } = await referenceLogits(run, 3);
    for (const [i, p] of got.entries()) {
      assert.equal(p.pred, ref[i]!.indexOf(Math.max(...ref[i]!)), `sample ${i}`);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(p.logits[c]! - ref[i]![c]!) <= TOL, `sample ${i} class ${c}: ${p.logits[c]} vs csgnet ${ref[i]![c]}`);
    }
    assert.equal(got[2]!.filters.length, 12);
    assert.ok(await page.locator('#gate').isHidden());
    assert.match(await page.locator('#gate-note').innerText(), /STD run: it has no gate/);
    assert.match(await page.locator('#filters-note').innerText(), /STD run \(no gate\): the most active filters/);
    assert.equal(await page.locator('#samples button').count(), 3);
    assert.ok(await page.locator('#shared').isVisible(), 'the page says it is shared with the network');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await explorer.close();
  }

  const noOut = csgnet('export', '--run', run);
  assert.notEqual(noOut.status, 0);
  assert.match(noOut.stderr, /give --out <file.onnx> \(or --html <dir>/);
  const both = csgnet('export', '--run', run, '--html', join(tmp, 'h'), '--out', join(tmp, 'm.onnx'));
  assert.notEqual(both.status, 0);
  assert.match(both.stderr, /give --out or --html, not both/);
  assert.equal(existsSync(join(tmp, 'h')), false);
  const noRun = csgnet('explore', '--run', join(tmp, 'nope'), '--port', '0');
  assert.notEqual(noRun.status, 0);
  assert.match(noRun.stderr, /--run .*nope: no such folder/);
});
