// @ts-check (tsconfig.browser.json: npm test type-checks this page script)
// The dashboard page: the run list (server-sent events from /api/stream) and the selected run
// (#/run/NAME: /api/runs/NAME/stream) with its curves, progress and metrics table.
// vega, vegaLite and vegaEmbed are globals from the /vendor scripts.
const $ = (sel) => document.querySelector(sel);
const runUrl = (name) => name.split('/').map(encodeURIComponent).join('/');
const fmt = (x, digits = 4) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));

let runs = [];
let selected = null;

// ---- run list -------------------------------------------------------------------------------

function renderRuns() {
  const body = $('#runs tbody');
  body.replaceChildren(...runs.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.run = r.name;
    tr.dataset.status = r.status;
    if (r.name === selected) tr.classList.add('selected');
    const cells = [
      r.name,
      null,
      r.model ?? '—',
      r.strategy ?? '—',
      `${r.epochsDone}/${r.epochs ?? '?'}`,
      fmt(r.last?.val_acc),
      new Date(r.updated).toLocaleString(),
      null,
    ];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      if (i === 1) {
        const s = document.createElement('span');
        s.className = `status status-${r.status}`;
        s.textContent = r.status;
        if (r.detail) s.title = r.detail;
        td.append(s);
      } else if (i === 7) {
        const a = document.createElement('a');
        a.href = `/runs/${runUrl(r.name)}/report`;
        a.target = '_blank';
        a.textContent = r.hasReport ? 'report' : 'how to make one';
        if (!r.hasReport) a.className = 'missing';
        a.addEventListener('click', (e) => e.stopPropagation());
        td.append(a);
      } else {
        td.textContent = text;
        if (i === 4 || i === 5) td.className = 'num';
      }
      tr.append(td);
    });
    tr.addEventListener('click', () => { location.hash = `#/run/${runUrl(r.name)}`; });
    return tr;
  }));
  $('#no-runs').hidden = runs.length > 0;
}

function followRunList() {
  const es = new EventSource('/api/stream');
  es.addEventListener('open', () => { $('#connection').textContent = 'live'; $('#connection').className = ''; });
  es.addEventListener('error', () => { $('#connection').textContent = 'reconnecting'; $('#connection').className = 'offline'; });
  es.addEventListener('runs', (ev) => {
    const data = JSON.parse(ev.data);
    $('#root').textContent = data.root;
    $('#shared').hidden = !data.shared;
    runs = data.runs;
    renderRuns();
  });
}

// ---- one run --------------------------------------------------------------------------------

let stream = null;
let view = null;
let points = 0;
let metrics = [];

/** Long-format rows of the chart: one per metric and epoch (epochs counted from 1). */
function chartRows(ms) {
  return ms.flatMap((m) => [
    { epoch: m.epoch + 1, panel: 'loss', series: 'train loss', value: m.train_loss },
    { epoch: m.epoch + 1, panel: 'accuracy', series: 'train acc', value: m.train_acc },
    { epoch: m.epoch + 1, panel: 'accuracy', series: 'val acc', value: m.val_acc },
  ]);
}

function panel(name, title) {
  return {
    width: 340, height: 200, title,
    transform: [{ filter: `datum.panel === '${name}'` }],
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, scale: { domainMin: 1 } },
      y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, axis: { format: '.3~g' } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['train loss', 'train acc', 'val acc'] } },
      tooltip: [{ field: 'series' }, { field: 'epoch' }, { field: 'value', format: '.4f' }],
    },
  };
}

async function drawChart() {
  view?.finalize();
  view = null;
  const drawn = metrics.length;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { name: 'metrics', values: chartRows(metrics) },
    hconcat: [panel('loss', 'Training loss'), panel('accuracy', 'Accuracy')],
    resolve: { scale: { color: 'shared' } },
    // Relayout on every update: the axes' labels and the legend grow as points come in.
    autosize: { type: 'pad', resize: true },
  };
  const result = await vegaEmbed('#chart', spec, { actions: false, renderer: 'svg' });
  view = result.view;
  setPoints(drawn);
  // Lines that came in while the chart was being made.
  if (metrics.length > drawn) await insertPoints(metrics.slice(drawn));
}

async function insertPoints(ms) {
  await view.insert('metrics', chartRows(ms)).runAsync();
  setPoints(points + ms.length);
}

function setPoints(n) {
  points = n;
  $('#chart').dataset.points = String(points);
}

function addMetrics(m) {
  metrics.push(m);
  if (view) insertPoints([m]);
  addMetricsRow(m);
}

function addMetricsRow(m) {
  const tr = document.createElement('tr');
  for (const [v, num] of [[m.epoch + 1], [m.path], [fmt(m.train_loss), 1], [fmt(m.train_acc), 1], [fmt(m.val_acc), 1], [fmt(m.density), 1], [fmt(m.seconds, 1), 1]]) {
    const td = document.createElement('td');
    td.textContent = v;
    if (num) td.className = 'num';
    tr.append(td);
  }
  $('#metrics tbody').append(tr);
}

function showSummary(run) {
  if (!run) return;
  const s = $('#run-status');
  s.className = `status status-${run.status}`;
  s.textContent = run.status;
  $('#run-info').textContent = [run.model, run.strategy, run.dataset, `${run.epochsDone}/${run.epochs ?? '?'} epochs`, run.detail]
    .filter(Boolean).join(' · ');
  if (run.status !== 'training') $('#progress').hidden = true;
}

function showProgress(p, training) {
  if (!p || !training) { $('#progress').hidden = true; return; }
  $('#progress').hidden = false;
  $('#progress .fill').style.width = `${(100 * p.batch) / Math.max(1, p.batches)}%`;
  $('#progress .text').textContent = `epoch ${p.epoch + 1}/${p.epochs} ${p.path} · batch ${p.batch}/${p.batches}` +
    (p.loss !== null ? ` · loss ${fmt(p.loss)} · acc ${fmt(p.acc, 3)}` : '');
}

function selectRun(name) {
  stream?.close();
  stream = null;
  selected = name;
  renderRuns();
  $('#run-panel').hidden = !name;
  if (!name) return;
  $('#run-name').textContent = name;
  $('#run-message').hidden = true;
  let status = null;
  stream = new EventSource(`/api/runs/${runUrl(name)}/stream`);
  stream.addEventListener('hello', async (ev) => {
    const d = JSON.parse(ev.data);
    metrics = d.metrics;
    status = d.run?.status;
    $('#metrics tbody').replaceChildren();
    metrics.forEach(addMetricsRow);
    showSummary(d.run);
    showResults(d.results ?? []);
    showProgress(d.progress, status === 'training');
    await drawChart();
  });
  stream.addEventListener('metrics', (ev) => addMetrics(JSON.parse(ev.data)));
  stream.addEventListener('reset', async (ev) => {
    metrics = JSON.parse(ev.data).metrics;
    $('#metrics tbody').replaceChildren();
    metrics.forEach(addMetricsRow);
    await drawChart();
  });
  stream.addEventListener('progress', (ev) => showProgress(JSON.parse(ev.data), true));
  stream.addEventListener('status', (ev) => {
    const run = JSON.parse(ev.data);
    status = run.status;
    showSummary(run);
  });
  stream.addEventListener('gone', () => {
    stream.close();
    $('#run-message').hidden = false;
    $('#run-message').textContent = `${name} was removed from the runs folder.`;
    $('#progress').hidden = true;
  });
}

/**
 * One line per result file of the run: current, or stale and why (compare and report recompute or skip it).
 * @param {{ kind: string, file: string, current: boolean, why: string }[]} results
 */
function showResults(results) {
  $('#results').replaceChildren(...results.map((r) => {
    const li = document.createElement('li');
    li.className = r.current ? 'result-current' : 'result-stale';
    li.textContent = r.current ? `${r.kind}: current (${r.file})` : `${r.kind}: stale: ${r.why}`;
    return li;
  }));
}

function route() {
  const m = /^#\/run\/(.+)$/.exec(location.hash);
  const name = m ? m[1].split('/').map(decodeURIComponent).join('/') : null;
  if (name !== selected) selectRun(name);
}

window.addEventListener('hashchange', route);
followRunList();
route();
