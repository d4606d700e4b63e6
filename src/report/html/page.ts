// The self-contained HTML report: pure (data in, one string out). Charts are Vega-Lite specs drawn in
// the browser by the inlined vega-embed (renderer 'svg'); images are data URIs; no request leaves the
// page. Sections are <details> elements; the CSS lays it out for laptop and phone widths.
import { orderByAssignment } from '../../metrics/analysis.js';
import { gateHeatmap, miMatrixHeatmap, specificityHistogram } from '../figures.js';
import { barSpec, type TopLevelSpec } from '../specs.js';
import { adversarialRocCurves, adversarialTables } from '../adversarial_tables.js';
import { comparisonSpecs, rocSpecs, trainingCurveSpecs, type TitledSpec } from './charts.js';
import { esc, jsonForScript, num } from './escape.js';
import type { ReportAssets, ReportData, ReportFaithfulness, ReportGallery, ReportLocalization, ReportRun } from './types.js';
import type { LocalizationReport } from '../../csg/results.js';

/** Collects the page's specs; each chart is a placeholder the page script fills. */
class Charts {
  readonly specs: TopLevelSpec[] = [];
  add(spec: TopLevelSpec, label: string): string {
    this.specs.push(spec);
    return `<figure class="chart" data-chart="${this.specs.length - 1}" aria-label="${esc(label)}"></figure>`;
  }
  grid(items: TitledSpec[]): string {
    return `<div class="charts">${items.map((t) => this.add(t.spec, t.title)).join('')}</div>`;
  }
}

const section = (id: string, title: string, body: string, open = true) =>
  `<details class="section" id="${esc(id)}"${open ? ' open' : ''}><summary>${esc(title)}</summary><div class="body">${body}</div></details>`;

const table = (head: string[], rows: string[][], cls = '') =>
  `<div class="scroll"><table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
  `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;

const missing = (text: string) => `<p class="missing">${esc(text)}</p>`;

/** Nested config values as dotted keys. */
function flatten(v: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, Array.isArray(v) ? v.join(', ') : String(v)]);
  return out;
}

function configSection(run: ReportRun, id: string): string {
  const c = run.config as Record<string, any>;
  const schedule: string[] = Array.isArray(c.schedule) ? c.schedule : [];
  const facts: [string, string][] = [
    ['model', run.model], ['strategy', run.strategy], ['dataset', run.dataset], ['classes', run.classes.join(', ')],
    ['epochs done', `${run.metrics.length}${schedule.length ? ` of ${schedule.length} (${schedule.filter((p) => p === 'csg').length} CSG epochs planned)` : ''}`],
    ['checkpoint', run.checkpoint ? `${run.checkpoint.file} (after epoch ${run.checkpoint.epoch})` : 'not opened'],
  ];
  if (c.libtorch) facts.push(['libtorch', String(c.libtorch)]);
  if (c.created) facts.push(['created', String(c.created)]);
  const train = flatten(c.train ?? {});
  const ds = flatten(c.dataset ?? {}).filter(([k]) => k !== 'classes');
  return section(id, 'Configuration',
    table(['', ''], facts.map(([k, v]) => [esc(k), esc(v)]), 'kv') +
    `<details class="sub"><summary>Training configuration (config.json)</summary>${table(['setting', 'value'], [...train, ...ds.map(([k, v]) => [`dataset.${k}`, v] as [string, string])].map(([k, v]) => [esc(k), esc(v)]), 'kv')}</details>`);
}

function curvesSection(run: ReportRun, id: string, charts: Charts): string {
  if (!run.metrics.length) return section(id, 'Training curves', missing('metrics.jsonl holds no epoch yet.'));
  const last = run.metrics[run.metrics.length - 1]!;
  return section(id, 'Training curves',
    `<p>${run.metrics.length} epochs (${run.metrics.filter((m) => m.path === 'csg').length} on the CSG path). Last: validation accuracy ${num(last.val_acc)}, ` +
    `training loss ${num(last.train_loss)}${last.density !== null && last.density !== undefined ? `, density ${num(last.density)}` : ''}.</p>` +
    charts.grid(trainingCurveSpecs(run.metrics)));
}

function analysisSections(run: ReportRun, ids: (s: string) => string, charts: Charts): string {
  const a = run.analysis;
  if (!a) {
    const why = missing('No analysis: run csgnet analyze --run RUN --out RUN/analysis (or csgnet report without --no-analyze).');
    return section(ids('gate'), 'Gate', why) + section(ids('mi'), 'Mutual information', why) + section(ids('specificity'), 'Specificity', why);
  }
  const C = a.classes.length, K = a.specificity.length;
  const assign = a.assignment.gate ?? a.assignment.mi;
  const order = orderByAssignment(assign, a.specificity);
  const related = a.related_filters ? (a.related_filters.gate ?? a.related_filters.mi) : null;
  const figures = table(['figure', 'value'], [
    ['images', `${a.n} (${esc(a.split)} split)`], ['accuracy', num(a.accuracy)], ['MIS', num(a.mis)], ['gate density', num(a.density)],
    ['mean specificity', num(a.mean_specificity)], ['gate/MI agreement', num(a.agreement)],
    ['class-filter balanced accuracy', num(a.class_filter_accuracy?.mean_balanced)],
  ].map(([k, v]) => [esc(k), v!]), 'kv');
  let gate: string;
  if (run.gate) {
    gate = `<p>G[k, c] for ${K} filters and ${C} classes, filters grouped by their class (argmax over c).</p>` +
      `<div class="charts">${charts.add(gateHeatmap(run.gate, K, C, a.classes, order), 'gate heatmap')}` +
      (related ? charts.add(barSpec({ labels: a.classes, values: related, title: 'Filters per class (gate)', yTitle: 'filters' }), 'filters per class') : '') + '</div>';
  } else {
    gate = missing(`${run.strategy === 'std' ? 'An STD run has no gate' : 'The gate was not loaded'}; filters are given to classes by the MI matrix below.`) +
      (related ? charts.grid([{ title: 'Filters per class (MI)', spec: barSpec({ labels: a.classes, values: related, title: 'Filters per class (MI)', yTitle: 'filters' }) }]) : '');
  }
  const mi = `<p>One-vs-rest mutual information of each filter's GAP activation with each class (nats), filters in assignment order.</p>` +
    charts.grid([{ title: 'MI matrix', spec: miMatrixHeatmap(a.mi_matrix.flat(), C, K, a.classes, order) }]);
  const spec = figures + charts.grid([{ title: 'Specificity', spec: specificityHistogram(a.specificity) }]);
  return section(ids('gate'), 'Gate', gate) + section(ids('mi'), 'Mutual information', mi) + section(ids('specificity'), 'Specificity and figures', spec);
}

function gallerySection(g: ReportGallery | null, id: string): string {
  if (!g) return section(id, 'Filter gallery', missing('No filter gallery (the model was not opened: --no-gallery, or see the notes).'));
  const by = { gate: 'the gate (argmax over classes of G[k, c])', mi: 'the MI matrix (argmax over classes)', activation: 'the highest mean activation per class' }[g.assignment];
  const firstShown = g.classes.findIndex((c) => c.filters.length > 0);
  const classes = g.classes.map((c, i) => {
    const rows = c.filters.map((f) => {
      const caption = `f${f.filter}` + (f.gate !== null ? ` &middot; G ${num(f.gate, 2)}` : '') + ` &middot; class mean ${num(f.classMean, 3)}`;
      const names = f.images.map((im) => `#${im.index} ${im.label} (${num(im.activation, 3)})`).join(', ');
      return `<div class="filter"><div class="caption">${caption}</div><img class="strip" src="${f.strip}" alt="${esc(`filter ${f.filter}: ${names}`)}" title="${esc(names)}"></div>`;
    }).join('');
    const body = c.filters.length ? rows : missing('No filter is assigned to this class.');
    return `<details class="sub gallery-class"${i === firstShown ? ' open' : ''}><summary>${esc(c.name)} <span class="dim">(${c.assigned} filters${c.assigned > c.filters.length ? `, ${c.filters.length} shown` : ''})</span></summary>${body}</details>`;
  }).join('');
  return section(id, 'Filter gallery',
    `<p>Filters given to classes by ${by}, strongest on the class first. For each filter, the ${g.perFilter} images of the first ${g.images} ` +
    `(${esc(g.split)} split) that activate it most (GAP), each with the filter's activation map overlaid (bilinear upsampling, one color scale per filter).</p>` + classes);
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Method x metric rows of a localization.json: every `overall` object's numbers. */
function localizationRows(json: unknown): string[][] {
  const rows: string[][] = [];
  const methods = (json as any)?.methods;
  if (!methods || typeof methods !== 'object') return rows;
  const figures = (o: unknown) => Object.entries((o ?? {}) as Record<string, unknown>).filter(([, v]) => finite(v)).map(([k, v]) => `${esc(k)} ${num(v)}`).join(' &middot; ');
  for (const [m, r] of Object.entries(methods as Record<string, any>)) {
    if (r?.overall) rows.push([esc(m), '', figures(r.overall)]);
    for (const [metric, v] of Object.entries((r ?? {}) as Record<string, any>)) if (v?.overall) rows.push([esc(m), esc(metric), figures(v.overall)]);
  }
  return rows;
}

function localizationSection(l: ReportLocalization | null, id: string): string {
  if (!l) return '';
  const s: Partial<LocalizationReport['settings']> = l.json.settings ?? {};
  const rows = localizationRows(l.json);
  return section(id, 'Localization',
    `<p>${esc(l.file)}: ${esc(s.images ?? '?')} images of the ${esc(s.split ?? '?')} split, maps for the ${esc(s.target ?? '?')} class.</p>` +
    (rows.length ? table(['method', 'metric', 'overall'], rows) : missing('localization.json holds no overall figures.')) +
    (l.overlays ? `<p>Rows: image, mask, then each class-map method's map.</p><img class="overlays" src="${l.overlays}" alt="localization overlays">` : ''));
}

function faithfulnessSection(f: ReportFaithfulness | null | undefined, id: string): string {
  if (!f) return '';
  const s = f.json.settings;
  const rows = Object.entries(f.json.methods ?? {}).map(([m, v]) => [esc(m), Object.entries(v?.overall ?? {}).filter(([, x]) => finite(x)).map(([k, x]) => `${esc(k)} ${num(x)}`).join(' &middot; ')]);
  return section(id, 'Faithfulness',
    `<p>${esc(f.file)}: ${esc(s?.images ?? '?')} images of the ${esc(s?.split ?? '?')} split, maps for the ${esc(s?.target ?? '?')} class ` +
    '(deletion AUC: lower is better; insertion AUC, ROAD combined, increase in confidence: higher; average drop: lower).</p>' +
    (rows.length ? table(['method', 'overall'], rows) : missing('faithfulness.json holds no figures.')));
}

function adversarialSection(run: ReportRun, id: string, charts: Charts): string {
  const a = run.adversarial;
  if (!a) return '';
  const t = adversarialTables(a.json);
  const tables = t.tables.map((x) => `<h4>${esc(x.heading)}</h4>` + table(x.header, x.rows.map((r) => r.map(esc))) +
    (x.note ? `<p><strong>${esc(x.note.label)}</strong> ${esc(x.note.text)}</p>` : '')).join('');
  const curves = adversarialRocCurves(a.json);
  return section(id, 'Adversarial detection', `<p>${esc(a.file)}: ${esc(t.intro)}</p>` + tables + (curves.length ? charts.grid(rocSpecs(curves)) : ''));
}

/** Short, distinct names of run folders for chart labels: the last path part, more parts where two agree. */
export function shortNames(names: string[]): string[] {
  const parts = names.map((n) => n.replace(/[\\/]+$/, '').split(/[\\/]/).filter(Boolean));
  for (let depth = 1; ; depth++) {
    const short = parts.map((p, i) => p.slice(-depth).join('/') || names[i]!);
    if (new Set(short).size === short.length || parts.every((p) => p.length <= depth)) {
      return new Set(short).size === short.length ? short : short.map((s, i) => `${i + 1}: ${s}`);
    }
  }
}

function comparisonSection(runs: ReportRun[], charts: Charts): string {
  const rows = runs.map((r) => [esc(r.name), esc(r.model), esc(r.strategy), num(r.analysis?.accuracy), num(r.analysis?.density ?? null), num(r.analysis?.mis),
    num(r.analysis?.mean_specificity), num(r.analysis?.agreement ?? null), num(r.analysis?.class_filter_accuracy?.mean_balanced)]);
  const names = shortNames(runs.map((r) => r.name));
  const specs = comparisonSpecs(runs.map((r, i) => ({ name: names[i]!, accuracy: r.analysis?.accuracy ?? null, mis: r.analysis?.mis ?? null,
    meanSpecificity: r.analysis?.mean_specificity ?? null, density: r.analysis?.density ?? null, metrics: r.metrics })));
  return section('comparison', 'Comparison (STD vs CSG)',
    table(['run', 'model', 'strategy', 'accuracy', 'density', 'MIS', 'mean specificity', 'gate/MI agreement', 'class-filter bal. acc'], rows) + charts.grid(specs));
}

function runBlock(run: ReportRun, index: number, charts: Charts): string {
  const base = `run${index + 1}`;
  const ids = (s: string) => `${base}-${s}`;
  const notes = run.notes.length ? `<ul class="notes">${run.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<section class="run" id="${base}"><h2>${esc(run.name)} <span class="dim">${esc(run.model)} &middot; ${esc(run.strategy)} &middot; ${esc(run.dataset)}</span></h2>${notes}` +
    configSection(run, ids('config')) + curvesSection(run, ids('curves'), charts) + analysisSections(run, ids, charts) +
    gallerySection(run.gallery, ids('gallery')) + localizationSection(run.localization, ids('localization')) +
    faithfulnessSection(run.faithfulness, ids('faithfulness')) + adversarialSection(run, ids('adversarial'), charts) + '</section>';
}

const CSS = `
:root{--fg:#1d2330;--dim:#687080;--line:#d9dde5;--bg:#fff;--panel:#f6f7f9;--accent:#2f5fb3}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:1.5em;margin:.2em 0}
h2{font-size:1.25em;margin:1.4em 0 .5em;border-bottom:2px solid var(--accent);padding-bottom:.2em}
h4{margin:.8em 0 .3em}
.dim{color:var(--dim);font-weight:normal;font-size:.85em}
nav{font-size:.9em;margin:.5em 0 1em}
nav a{color:var(--accent);margin-right:.9em}
h1,h2,nav,p,li,summary,.caption{overflow-wrap:anywhere}
details.section{border:1px solid var(--line);border-radius:6px;margin:.6em 0;background:var(--bg)}
details.section>summary{cursor:pointer;padding:.5em .8em;font-weight:600;background:var(--panel);border-radius:6px}
details.section[open]>summary{border-bottom:1px solid var(--line);border-radius:6px 6px 0 0}
details.section>.body{padding:.6em .8em}
details.sub{margin:.5em 0}
details.sub>summary{cursor:pointer;font-weight:500}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.9em;margin:.4em 0}
th,td{border-bottom:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}
th{background:var(--panel);white-space:nowrap}
table.kv thead{display:none}
td{font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}
figure.chart{margin:0;max-width:100%;overflow-x:auto;min-height:40px}
figure.chart svg{display:block}
.filter{margin:.4em 0 .8em}
.caption{font-size:.85em;color:var(--dim)}
img.strip{display:block;width:100%;max-width:560px;height:auto;image-rendering:pixelated;border:1px solid var(--line)}
img.overlays{display:block;width:min(100%,520px);height:auto;image-rendering:pixelated}
.missing{color:#8a5a00;background:#fff6e0;padding:.4em .6em;border-radius:4px}
ul.notes{color:#8a5a00;font-size:.9em}
footer{color:var(--dim);font-size:.8em;margin-top:2em}
@media (max-width:640px){
  body{font-size:14px}
  main{padding:10px 8px 32px}
  details.section>.body{padding:.4em .4em}
  h2 .dim{display:block}
}`;

/** The page script: embeds every chart, marks each placeholder ok or failed, and the body when all are done. */
const SCRIPT = `(function () {
  var specs = JSON.parse(document.getElementById('report-specs').textContent);
  var els = Array.prototype.slice.call(document.querySelectorAll('[data-chart]'));
  Promise.all(els.map(function (el) {
    return vegaEmbed(el, specs[Number(el.getAttribute('data-chart'))], { renderer: 'svg', actions: false })
      .then(function () { el.setAttribute('data-state', 'ok'); },
        function (e) { el.setAttribute('data-state', 'error'); el.textContent = 'chart failed: ' + e; console.error(e); });
  })).then(function () { document.body.setAttribute('data-charts', 'done'); });
})();`;

/** The whole report page. */
export function renderReportHtml(data: ReportData, assets: ReportAssets): string {
  const charts = new Charts();
  const runs = data.runs.map((r, i) => runBlock(r, i, charts));
  const comparison = data.runs.length > 1 ? comparisonSection(data.runs, charts) : '';
  const nav = [...(comparison ? ['<a href="#comparison">Comparison</a>'] : []),
    ...shortNames(data.runs.map((r) => r.name)).map((name, i) => `<a href="#run${i + 1}">${esc(name)}</a>`)].join('');
  // Library sources go in as they are; a '</script' inside one would end the element early.
  const libs = assets.scripts.map((s) => {
    if (/<\/script/i.test(s.source)) throw new Error(`report: ${s.name} contains '</script' and cannot be inlined`);
    return `<script data-lib="${esc(s.name)}">${s.source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')}</script>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${esc(data.generator)}">
<title>${esc(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(data.title)}</h1>
<p class="dim">${data.runs.length} run${data.runs.length === 1 ? '' : 's'} &middot; made ${esc(data.created)} by ${esc(data.generator)}</p>
<nav>${nav}</nav>
${comparison}
${runs.join('\n')}
<footer>Self-contained: charts by Vega-Lite through vega-embed (inlined), images as data URIs.</footer>
</main>
<script type="application/json" id="report-specs">${jsonForScript(charts.specs)}</script>
${libs}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
