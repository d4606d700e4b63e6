// csgnet report: the page's structure (every section, charts, no network reference, valid data URIs),
// the gallery's figures against the model's own GAP activations, escaping, the pure helpers, and bad
// input refused by name. The browser side is report_browser.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as torch from '../src/torch/index.js';
import { extractFeatures, openRun, runDataset } from '../src/csg/run.js';
import { buildReport, gatherRun, writeReport } from '../src/app/report.js';
import {
  heatColor, hstack, overlayRgb, renderReportHtml, shortNames, trainingCurveSpecs, type ReportData, type ReportRun,
} from '../src/report/html/index.js';
import { GALLERY_IMAGES, REPORT_OPTIONS, adversarialJson, reportFixture } from './report_fixture.js';
import { runCli } from './support/cli.js';

const specsOf = (html: string): any[] => JSON.parse(/<script type="application\/json" id="report-specs">([\s\S]*?)<\/script>/.exec(html)![1]!);
const dataUris = (html: string) => [...html.matchAll(/data:(image\/[a-z+]+);base64,([A-Za-z0-9+/=]+)/g)].map((m) => ({ mime: m[1]!, bytes: Buffer.from(m[2]!, 'base64'), text: m[2]! }));

test('the report of a CSG and an STD run has every section, one placeholder per chart, and charts of the right kinds', async () => {
  const { html } = await reportFixture();
  for (const id of ['comparison', 'run1', 'run1-config', 'run1-curves', 'run1-gate', 'run1-mi', 'run1-specificity', 'run1-gallery', 'run1-localization', 'run1-adversarial',
    'run2', 'run2-config', 'run2-curves', 'run2-gate', 'run2-mi', 'run2-specificity', 'run2-gallery']) {
    assert.match(html, new RegExp(`id="${id}"`), `section ${id}`);
  }
  // The STD run has no localization or adversarial folder: no such sections.
  assert.doesNotMatch(html, /id="run2-localization"|id="run2-adversarial"/);
  // Every section collapses.
  assert.equal((html.match(/<details class="section"/g) ?? []).length, 1 + 8 + 6);
  const specs = specsOf(html);
  const placeholders = [...html.matchAll(/data-chart="(\d+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(placeholders.sort((a, b) => a - b), specs.map((_, i) => i));
  const titles = specs.map((s) => s.title);
  for (const t of ['Training loss', 'Cross-entropy', 'Gate penalty', 'Accuracy', 'Gate density', 'Learning rates', 'Class-specific gate',
    'Mutual information (filter, class)', 'Filter class specificity', 'ROC', 'MIS', 'Mean filter specificity', 'Validation accuracy']) {
    assert.ok(titles.includes(t), `chart '${t}' (have ${titles.join(', ')})`);
  }
  assert.equal(titles.filter((t) => t === 'Class-specific gate').length, 1, 'only the CSG run has a gate heatmap');
  // The gate heatmap holds the checkpoint's G: 64 filters x 10 classes, values in [0, 1], each filter's max 1 (the projection).
  const gateSpec = specs[titles.indexOf('Class-specific gate')];
  assert.equal(gateSpec.data.values.length, 64 * 10);
  const maxPerFilter = new Map<number, number>();
  for (const d of gateSpec.data.values) maxPerFilter.set(d.c, Math.max(maxPerFilter.get(d.c) ?? 0, d.v));
  assert.deepEqual([...new Set(maxPerFilter.values())], [1]);
  // The ROC chart's curves are the JSON's, with their AUROC in the legend.
  const roc = specs[titles.indexOf('ROC')];
  assert.deepEqual([...new Set(roc.data.values.map((d: any) => d.series))], ['fgsm@0.1 / gate (AUROC 0.875)', 'pgd@0.1 / mahalanobis (AUROC 0.750)']);
  assert.deepEqual(roc.data.values.filter((d: any) => d.series.includes('fgsm')).map((d: any) => [d.x, d.y]), [[0, 0], [0.1, 0.6], [0.5, 0.9], [1, 1]]);
  // adversarial.json's tables (those of adversarial.md) are tables, with the few-samples warning.
  assert.match(html, /<th>attack<\/th><th>eps<\/th><th>adaptive w<\/th><th>gate<\/th><th>mahalanobis<\/th>/);
  assert.match(html, /<td>fgsm<\/td><td>0\.1<\/td><td>-<\/td><td>0\.875 \/ 0\.500 \/ 0\.800<\/td><td>n\/a<\/td>/);
  assert.match(html, /<strong>Few samples:<\/strong> fgsm@0\.1 \(20\), pgd@0\.1 \(20\) report fewer than 30/);
});

test('the page refers to nothing outside itself: inlined libraries, data URIs only', async () => {
  const { html: full } = await reportFixture();
  // The inlined libraries are code (they can build <img> tags for their own exports); the page is the rest.
  const html = full.replace(/(<script data-lib="[^"]+">)[\s\S]*?<\/script>/g, '$1</script>');
  const attrs = [...html.matchAll(/<(script|img|link|iframe|source|video|audio|object|embed)\b[^>]*?\b(src|href|data)\s*=\s*"([^"]*)"/gi)];
  const external = attrs.filter((m) => !m[3]!.startsWith('data:'));
  assert.deepEqual(external.map((m) => m[0].slice(0, 80)), []);
  assert.doesNotMatch(html, /<link\b/i);
  assert.doesNotMatch(html, /@import|url\(\s*['"]?https?:/i);
  assert.doesNotMatch(html, /sourceMappingURL/);
  assert.doesNotMatch(full, /sourceMappingURL/);
  const libs = [...html.matchAll(/<script data-lib="([^"]+)">/g)].map((m) => m[1]);
  assert.deepEqual(libs, ['vega', 'vega-lite', 'vega-embed']);
  assert.ok(full.length < 3_000_000, `report is ${full.length} bytes`);
});

test('every data URI decodes to the image its MIME type says, gallery strips of 8 thumbnails', async () => {
  const { html } = await reportFixture();
  const uris = dataUris(html);
  const csgStrips = 10 * 3; // at most 3 filters per class; counted below from the page
  assert.ok(uris.length > 10, `${uris.length} data URIs`);
  for (const u of uris) {
    assert.equal(Buffer.from(u.bytes).toString('base64'), u.text, 'canonical base64');
    const meta = await sharp(u.bytes).metadata();
    assert.equal(`image/${meta.format}`, u.mime === 'image/jpeg' ? 'image/jpeg' : u.mime);
  }
  const strips = [...html.matchAll(/<img class="strip" src="data:image\/jpeg;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64'));
  assert.ok(strips.length > 0 && strips.length <= csgStrips * 2, `${strips.length} strips`);
  const sizes = new Set<string>();
  for (const s of strips) { const m = await sharp(s).metadata(); sizes.add(`${m.width}x${m.height}`); }
  // 8 images of 48 px (cluttered, CSG run) or 28 px (STD run) with 2 px gaps.
  assert.deepEqual([...sizes].sort(), [`${8 * 28 + 7 * 2}x28`, `${8 * 48 + 7 * 2}x48`]);
  assert.equal(dataUris(html).filter((u) => u.mime === 'image/png').length, 1, 'the localization overlays');
});

test("the gallery's filters and images are the model's: gate assignment, top-8 GAP activations", async () => {
  const { csg } = await reportFixture();
  global.gc?.();
  const live = torch.liveTensors();
  const run = await gatherRun(csg, { ...REPORT_OPTIONS, analyze: false });
  global.gc?.();
  assert.equal(torch.liveTensors(), live, 'gathering a run frees its tensors');
  assert.deepEqual(run.notes, [], 'the analysis cached by the fixture is reused');
  const g = run.gallery!;
  assert.equal(g.assignment, 'gate');
  assert.equal(g.images, GALLERY_IMAGES);
  const open = openRun(csg);
  const ds = await runDataset(open, 'test');
  const { features, n, k: K } = extractFeatures(open.model, ds, GALLERY_IMAGES, open.config.memoryFormat);
  const G = open.gate!.toArray();
  let shown = 0;
  g.classes.forEach((c, ci) => {
    assert.equal(c.name, ds.classNames[ci]);
    assert.equal(c.assigned, G.filter((row) => row.indexOf(Math.max(...row)) === ci).length);
    for (const f of c.filters) {
      shown++;
      assert.equal(G[f.filter]!.indexOf(Math.max(...G[f.filter]!)), ci, `filter ${f.filter} belongs to class ${ci}`);
      assert.equal(f.gate, G[f.filter]![ci]);
      const acts = Array.from({ length: n }, (_, i) => features[i * K + f.filter]!);
      const top = [...acts].sort((a, b) => b - a).slice(0, 8);
      assert.deepEqual(f.images.map((im) => im.activation), top);
      for (const im of f.images) {
        assert.equal(acts[im.index], im.activation);
        assert.equal(im.label, ds.classNames[ds.labels[im.index]!]);
      }
    }
  });
  assert.ok(shown > 0);
  open.model.dispose(); open.gate!.weight.dispose();
});

test('overlay pixels: the heat colormap blended with opacity 0.2 + 0.5 v; strips with white gaps', () => {
  assert.deepEqual(heatColor(0), [0, 0, 128]);
  assert.deepEqual(heatColor(1), [128, 0, 0]);
  assert.deepEqual(heatColor(0.5), [128, 255, 128]);
  // A 1x2 grey image, map [0, 2] with scale 2: pixel 0 at v = 0 (opacity 0.2), pixel 1 at v = 1 (opacity 0.7).
  const rgb = overlayRgb(Uint8Array.from([100, 200]), 1, 1, 2, [0, 2], 2);
  assert.deepEqual(Array.from(rgb), [80, 80, Math.round(0.8 * 100 + 0.2 * 128), Math.round(0.3 * 200 + 0.7 * 128), 60, 60]);
  // Colour images use their own channels; a map above the scale is clamped.
  assert.deepEqual(Array.from(overlayRgb(Uint8Array.from([10, 20, 30]), 3, 1, 1, [5], 1)), [Math.round(0.3 * 10 + 0.7 * 128), Math.round(0.3 * 20), Math.round(0.3 * 30)]);
  const s = hstack([new Uint8Array(3).fill(1), new Uint8Array(3).fill(2)], 1, 1, 2);
  assert.deepEqual([s.width, s.height, ...s.rgb], [4, 1, 1, 1, 1, 255, 255, 255, 255, 255, 255, 2, 2, 2]);
  assert.throws(() => overlayRgb(new Uint8Array(3), 1, 1, 2, [0, 0], 1), /image has 3 values, expected 1 x 1 x 2/);
});

test('text from runs is escaped everywhere, adversarial tables included', () => {
  const evil = '</script><img src=x onerror=alert(1)>';
  const adversarial = adversarialJson({ file: 'x', bytes: 1, sha256: '0' });
  adversarial.protocol = evil;
  adversarial.attacks[0]!.key = evil;
  const run: ReportRun = {
    name: `runs/${evil}`, config: { train: { model: evil }, dataset: { name: evil } }, model: 'resnet20', strategy: 'csg', dataset: evil, classes: [evil, 'b'],
    checkpoint: null, metrics: [], analysis: null, gate: null, gallery: null, localization: null,
    adversarial: { file: evil, json: adversarial }, notes: [evil],
  };
  const data: ReportData = { title: evil, created: 'now', generator: 'test', runs: [run, { ...run, name: 'second' }] };
  const html = renderReportHtml(data, { scripts: [] });
  assert.doesNotMatch(html, /<img src=x/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'only the specs and the page script end a script element');
  assert.match(html, /&lt;\/script&gt;&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /<strong>Few samples:<\/strong> &lt;\/script&gt;&lt;img src=x onerror=alert\(1\)&gt; \(20\)/);
  assert.throws(() => renderReportHtml(data, { scripts: [{ name: 'bad', source: 'x = "</script>"' }] }), /bad contains '<\/script' and cannot be inlined/);
});

test('training curves split by path', () => {
  const m = (epoch: number, path: 'std' | 'csg', loss: number) =>
    ({ epoch, path, train_loss: loss, train_ce: loss / 2, train_reg: path === 'csg' ? 0.5 : 0, train_acc: 0.5, val_acc: 0.4, density: 0.3, lr: { std: 0.1, gate: 0.01 }, seconds: 1 });
  const specs = trainingCurveSpecs([m(0, 'std', 3), m(1, 'csg', 2), m(2, 'std', 1)]);
  assert.deepEqual(specs.map((s) => s.title), ['Training loss', 'Cross-entropy', 'Gate penalty', 'Accuracy', 'Gate density', 'Learning rates']);
  const loss = (specs[0]!.spec as any).data.values;
  assert.deepEqual(loss.map((d: any) => [d.series, d.x, d.y]), [['loss (std epochs)', 0, 3], ['loss (std epochs)', 2, 1], ['loss (csg epochs)', 1, 2]]);
  assert.equal((specs[5]!.spec as any).encoding.y.scale.type, 'log');
  assert.deepEqual(trainingCurveSpecs([m(0, 'std', 1)]).map((s) => s.title), ['Training loss', 'Cross-entropy', 'Accuracy', 'Gate density', 'Learning rates']);
  // Chart labels: the folder's last part, more where two agree.
  assert.deepEqual(shortNames(['runs/a/csg', 'runs/b/csg/', 'x/std']), ['a/csg', 'b/csg', 'x/std']);
  assert.deepEqual(shortNames(['runs/std', 'runs/csg']), ['std', 'csg']);
  assert.deepEqual(shortNames(['same', 'same']), ['1: same', '2: same']);
});

test('bad input is refused by name: not a run, --out a folder, bad gallery sizes, no runs', async () => {
  const { tmp, csg } = await reportFixture();
  await assert.rejects(writeReport({ runs: [csg, join(tmp, 'nope')], out: join(tmp, 'r.html') }), /nope is not a csgnet run folder \(.*config\.json not found\)/);
  mkdirSync(join(tmp, 'dir.html'), { recursive: true });
  await assert.rejects(writeReport({ runs: [csg], out: join(tmp, 'dir.html') }), /--out .*dir\.html is a folder; name the HTML file to write/);
  await assert.rejects(buildReport({ runs: [csg], out: 'x', galleryImages: 0 }), /--gallery-images must be an integer >= 1, got 0/);
  await assert.rejects(buildReport({ runs: [], out: 'x' }), /name at least one run folder/);
  const r = runCli(['report', csg, '--gallery-images', '-3']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--gallery-images.*expected an integer >= 1, got '-3'/);
  const none = runCli(['report']);
  assert.match(none.stderr, /missing required argument 'runs'/);
});

test('csgnet report writes the page from the command line, reusing cached analyses', async () => {
  const { tmp, csg, std } = await reportFixture();
  const out = join(tmp, 'cli.html');
  const r = runCli(['report', csg, std, '--out', out, '--analysis-limit', '200', '--gallery-images', '50', '--filters-per-class', '1', '--threads', '1'],
    { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*cli\.html \(\d+ KiB, 2 runs\)/);
  assert.doesNotMatch(r.stderr, /analyzing/);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /the 8 images of the first 50 \(test split\)/);
  assert.ok((html.match(/<img class="strip"/g) ?? []).length <= 20);
});

test('analyzing a run frees the model it opened (compare and report analyse many runs in one process)', async () => {
  const { csg } = await reportFixture();
  const { analyzeRun } = await import('../src/app/run_analysis.js');
  await analyzeRun(csg, { split: 'test', limit: 64 }); // warm-up: lazily created globals
  global.gc?.();
  const live = torch.liveTensors();
  const a = await analyzeRun(csg, { split: 'test', limit: 64 });
  global.gc?.();
  assert.equal(a.result.n, 64);
  assert.equal(torch.liveTensors(), live);
});
