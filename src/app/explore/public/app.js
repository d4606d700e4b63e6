// @ts-check (tsconfig.browser.json: npm test type-checks this page script)
// csgnet explorer: classifies an image with the run's ONNX model in the browser (onnxruntime-web,
// wasm, one thread) and shows the class probabilities, the predicted class's filters with their
// activation maps over the image, and the gate matrix. The model takes v/255 in [0, 1] and
// normalizes inside; its outputs are logits [1, C] and maps [1, K, h, w] (the last conv map).
import * as ort from './ort/ort.wasm.min.mjs';

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;

const MAX_FILTERS = 12;
/** An element by id; `any`, as it may be a canvas, an input or a plain element. @type {(id: string) => any} */
const $ = (id) => document.getElementById(id);

let meta = null;
let session = null;
/** The classifications in order (one at a time through the wasm session). @type {Promise<unknown>} */
let queue = Promise.resolve();

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

/** Loads an image (URL or Blob) as an ImageBitmap-like drawable. */
async function loadImage(src) {
  if (src instanceof Blob) return createImageBitmap(src);
  const img = new Image();
  img.src = src;
  await img.decode();
  return img;
}

/** Pixels of `img` drawn at the model's input size, as [C, H, W] values v/255 and the RGBA canvas. */
function toInput(img) {
  const [c, h, w] = meta.inputShape;
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const x = new Float32Array(c * h * w);
  for (let i = 0; i < h * w; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    if (c === 1) x[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b) / 255; // a grey PNG gives r = g = b = v exactly
    else { x[i] = r / 255; x[h * w + i] = g / 255; x[2 * h * w + i] = b / 255; }
  }
  return { x, canvas };
}

function softmax(logits) {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * The filters shown for class `cls`: those the gate opens for it (G[k][cls] at least half its largest
 * entry) for a CSG run, the most active ones for STD; filters silent on this image (an all-zero map) are
 * left out and counted in `silent`.
 */
function chooseFilters(maps, dims, cls) {
  const [k, h, w] = dims;
  const mean = new Float64Array(k), max = new Float64Array(k);
  for (let f = 0; f < k; f++) {
    let s = 0, m = 0;
    for (let i = 0; i < h * w; i++) { s += maps[f * h * w + i]; m = Math.max(m, maps[f * h * w + i]); }
    mean[f] = s / (h * w);
    max[f] = m;
  }
  let order = [...Array(k).keys()];
  if (meta.gate) {
    const g = (f) => meta.gate[f][cls];
    const top = Math.max(...order.map(g));
    order = order.filter((f) => top > 0 && g(f) >= 0.5 * top).sort((a, b) => g(b) * mean[b] - g(a) * mean[a] || a - b);
  } else {
    order.sort((a, b) => mean[b] - mean[a] || a - b);
  }
  const active = order.filter((f) => max[f] > 0);
  return {
    shown: active.slice(0, MAX_FILTERS).map((f) => ({ filter: f, gate: meta.gate ? meta.gate[f][cls] : null, mean: mean[f] })),
    open: order.length, silent: order.length - active.length,
  };
}

/** Colour of an activation in [0, 1] for the overlay (transparent blue to opaque red-yellow). */
function heat(t) {
  const r = Math.round(255 * Math.min(1, 2 * t)), g = Math.round(255 * Math.max(0, 2 * t - 1)), b = Math.round(255 * (1 - t) * 0.6);
  return [r, g, b, Math.round(40 + 170 * t)];
}

function drawFilters(chosen, maps, dims, source) {
  const [, h, w] = dims;
  const box = $('filters');
  box.replaceChildren();
  for (const { filter, gate, mean } of chosen) {
    const m = maps.subarray(filter * h * w, (filter + 1) * h * w);
    let max = 0;
    for (const v of m) max = Math.max(max, v);
    const small = document.createElement('canvas');
    small.width = w; small.height = h;
    const sctx = small.getContext('2d');
    const img = sctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) img.data.set(heat(max > 0 ? Math.max(0, m[i]) / max : 0), 4 * i);
    sctx.putImageData(img, 0, 0);
    const view = document.createElement('canvas');
    view.width = 96; view.height = 96;
    const vctx = view.getContext('2d');
    vctx.imageSmoothingEnabled = false;
    vctx.drawImage(source, 0, 0, 96, 96);
    vctx.imageSmoothingEnabled = true;
    vctx.drawImage(small, 0, 0, 96, 96);
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = `#${filter}` + (gate === null ? '' : ` G=${gate.toFixed(2)}`) + ` act ${mean.toFixed(2)}`;
    view.title = `filter ${filter}: mean activation ${mean.toFixed(3)}, max ${max.toFixed(3)}`;
    fig.append(view, cap);
    box.append(fig);
  }
}

function drawPrediction(result, source, chosen) {
  const names = meta.classNames;
  $('prediction').hidden = false;
  const view = $('input-view');
  const vctx = view.getContext('2d');
  vctx.imageSmoothingEnabled = false;
  vctx.drawImage(source, 0, 0, view.width, view.height);
  const truth = result.label === null ? '' : ` (label: ${names[result.label]})`;
  $('predicted').textContent = `${names[result.pred]} ${(100 * result.probs[result.pred]).toFixed(1)} %${truth}`;
  const order = [...names.keys()].sort((a, b) => result.probs[b] - result.probs[a]);
  $('probs').replaceChildren(...order.map((cls) => {
    const li = document.createElement('li');
    if (cls === result.pred) li.className = 'top';
    const name = document.createElement('span'); name.textContent = names[cls];
    const bar = document.createElement('span'); bar.className = 'bar'; bar.style.width = `${(100 * result.probs[cls]).toFixed(1)}%`;
    const holder = document.createElement('span'); holder.className = 'track'; holder.append(bar);
    const p = document.createElement('span'); p.className = 'p'; p.textContent = `${(100 * result.probs[cls]).toFixed(1)} %`;
    li.append(name, holder, p);
    return li;
  }));
  $('filters-title').textContent = `Filters of the predicted class: ${names[result.pred]}`;
  const silent = chosen.silent ? ` ${chosen.silent} of them are silent on this image (not shown).` : '';
  $('filters-note').textContent = meta.gate
    ? `The ${chosen.open} filters the gate G opens for this class (G ≥ half its largest entry), by gated mean activation; maps over the image, each scaled to its own maximum.${silent}`
    : `STD run (no gate): the most active filters; maps over the image, each scaled to its own maximum.`;
  drawGate(result.pred);
}

/** Classifies one image; `label` is the true class when known. Runs one at a time. */
function classify(img, label = null) {
  const job = queue.then(async () => {
    const started = performance.now();
    const { x, canvas } = toInput(img);
    const [c, h, w] = meta.inputShape;
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, c, h, w]) });
    const logits = Array.from(out.logits.data);
    const maps = out.maps.data;
    const dims = out.maps.dims.slice(1);
    const probs = softmax(logits);
    let pred = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[pred]) pred = i;
    const chosen = chooseFilters(maps, dims, pred);
    const result = { label, pred, logits, probs, filters: chosen.shown.map((f) => f.filter), silentFilters: chosen.silent };
    drawPrediction(result, canvas, chosen);
    drawFilters(chosen.shown, maps, dims, canvas);
    for (const t of Object.values(out)) t.dispose?.();
    setStatus(`classified in ${(performance.now() - started).toFixed(0)} ms (onnxruntime-web, wasm, one thread)`);
    return result;
  });
  queue = job.catch(() => {});
  return job;
}

async function predictSample(i) {
  const s = meta.samples[i];
  if (!s) throw new Error(`no sample ${i} (there are ${meta.samples.length})`);
  document.querySelectorAll('#samples button').forEach((b, j) => b.classList.toggle('active', j === i));
  const result = await classify(await loadImage(s.file), s.label);
  return { index: i, ...result };
}

function drawGate(highlight = -1) {
  const canvas = $('gate');
  if (!meta.gate) {
    canvas.hidden = true;
    $('gate-note').textContent = 'This is an STD run: it has no gate.';
    return;
  }
  const g = meta.gate, k = g.length, names = meta.classNames, c = names.length;
  const cell = Math.max(1, Math.min(12, Math.floor(1000 / k))), rowH = 16, left = 110;
  canvas.width = left + k * cell + 4;
  canvas.height = c * rowH + 4;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (let cls = 0; cls < c; cls++) {
    ctx.fillStyle = cls === highlight ? '#e36' : '#222';
    ctx.fillText(names[cls], 2, cls * rowH + rowH / 2 + 2, left - 6);
    for (let f = 0; f < k; f++) {
      const v = Math.max(0, Math.min(1, g[f][cls]));
      // White (closed) to dark blue (open).
      ctx.fillStyle = `rgb(${Math.round(255 - 235 * v)}, ${Math.round(255 - 215 * v)}, ${Math.round(255 - 115 * v)})`;
      ctx.fillRect(left + f * cell, cls * rowH + 2, cell, rowH - 1);
    }
  }
  if (highlight >= 0) {
    ctx.strokeStyle = '#e36';
    ctx.lineWidth = 2;
    ctx.strokeRect(left - 1, highlight * rowH + 1, k * cell + 2, rowH + 1);
  }
  $('gate-note').textContent = `G: ${k} filters (columns) × ${c} classes (rows); white 0, blue 1. The predicted class's row is outlined.`;
}

function renderSamples() {
  const box = $('samples');
  box.replaceChildren(...meta.samples.map((s, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.title = `test sample ${i}: ${meta.classNames[s.label]}`;
    const img = document.createElement('img');
    img.src = s.file;
    img.alt = meta.classNames[s.label];
    b.append(img);
    b.addEventListener('click', () => predictSample(i).catch(report));
    return b;
  }));
}

function report(e) {
  setStatus(`error: ${e.message ?? e}`, true);
  console.error(e);
}

function wireDrop() {
  const drop = $('drop');
  const take = (file) => {
    if (!file) return;
    if (!file.type.startsWith('image/')) { setStatus(`${file.name} is not an image`, true); return; }
    document.querySelectorAll('#samples button').forEach((b) => b.classList.remove('active'));
    loadImage(file).then((img) => classify(img)).catch(report);
  };
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); take(e.dataTransfer.files[0]); });
  $('file').addEventListener('change', (e) => take(/** @type {HTMLInputElement} */ (e.target).files[0]));
}

async function start() {
  meta = await (await fetch('explorer.json')).json();
  $('shared').hidden = !meta.shared; // set by csgnet explore's server when started with --allow-remote
  const [c, h, w] = meta.inputShape;
  $('model-info').textContent = `${meta.model} (${meta.strategy.toUpperCase()}) on ${meta.dataset}, epoch ${meta.epoch}: ` +
    `${meta.classNames.length} classes, ${meta.numFilters} filters, input ${c}×${h}×${w}`;
  renderSamples();
  wireDrop();
  drawGate();
  session = await ort.InferenceSession.create('model.onnx', { executionProviders: ['wasm'] });
  setStatus('ready: drop an image or pick a test sample');
}

const ready = start().catch((e) => { report(e); throw e; });
window.csgnetExplorer = {
  ready,
  get meta() { return meta; },
  /** Classifies test sample i: { index, label, pred, logits, probs, filters (shown), silentFilters }. */
  predict: (i) => ready.then(() => predictSample(i)),
};
