// The in-browser explorer: a static site (index.html, app.js, style.css, the run's model as ONNX with
// logits and maps outputs and the normalization inside, explorer.json with classes and gate, a few test
// samples as PNG, onnxruntime-web's wasm build) where a dropped image or a test sample is classified by
// onnxruntime-web in the page. `writeExplorerSite` writes it to a folder (`csgnet export --html`);
// `startExplorer` serves it (`csgnet explore`): built in memory from a run, or read from such a folder.
// The server answers only GET for the exact file names of the site: a path is a key lookup, never a
// file-system path, so '..', encoded slashes or symlinks cannot reach anything else.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { Hono } from 'hono';
import { allowedHosts, checkBind, readOnlyLocal, serve } from './serve.js';
import { packageRoot } from '../util/paths.js';
import { packageFile } from '../util/optional.js';
import { writeFileAtomic } from '../util/atomic.js';
import { openRun, runDataset, type OpenRun } from '../csg/run.js';
import { exportRunOnnx } from './export.js';
import { checkOutputDir, stagedWrite, writingOutput } from './outputs.js';
import { EXPLORE_DEFAULTS, SERVER_HOST } from './defaults.js';

export const EXPLORER_META_FILE = 'explorer.json';
export const EXPLORER_MODEL_FILE = 'model.onnx';
/** Page files, from src/app/explore/public. */
const PAGE_FILES = ['index.html', 'app.js', 'style.css'];
/** onnxruntime-web's wasm-only ES module and the single wasm build it loads (from the same folder). */
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

export interface ExplorerSample { file: string; label: number }

/** explorer.json: what the page needs besides the model. */
export interface ExplorerMeta {
  version: 1;
  model: string;
  strategy: string;
  dataset: string;
  /** The run folder's name (not its path: the site may be published). */
  run: string;
  epoch: number;
  classNames: string[];
  /** [C, H, W] of one image; the graph takes v/255 in [0, 1] and normalizes inside. */
  inputShape: [number, number, number];
  mean: number[];
  std: number[];
  /** G [K][C] of a CSG run; null for STD. */
  gate: number[][] | null;
  numFilters: number;
  samples: ExplorerSample[];
}

export interface ExplorerSiteOptions {
  /** 'last' (default), 'best' or a checkpoint file. */
  checkpoint?: string;
  /** How many test images (the first ones of the test split) go in as samples (default 20). */
  samples?: number;
  /** Receives a note when an older run's training statistics have to be recomputed. */
  log?: (line: string) => void;
}

/** A site: relative path ('/'-separated) -> bytes. */
export type SiteFiles = Map<string, Uint8Array>;

const publicDir = () => join(packageRoot(), 'src', 'app', 'explore', 'public');

/** onnxruntime-web's dist/<file> (an optional dependency: only the explorer needs it). */
const ortFile = (file: string): string => packageFile('onnxruntime-web', join('dist', file), 'the explorer (csgnet explore, export --html)');

/** One image of a dataset (CHW uint8) as PNG bytes: grey for one channel, RGB for three. */
async function samplePng(pixels: Uint8Array, c: number, h: number, w: number): Promise<Uint8Array> {
  if (c !== 1 && c !== 3) throw new Error(`explorer: samples need 1 or 3 channels, got ${c}`);
  const hwc = new Uint8Array(h * w * c);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) hwc[i * c + ch] = pixels[ch * h * w + i]!;
  const { default: sharp } = await import('sharp');
  return new Uint8Array(await sharp(Buffer.from(hwc), { raw: { width: w, height: h, channels: c } }).png().toBuffer());
}

/** The explorer site of a run, in memory. */
export async function buildExplorerSite(run: string | OpenRun, o: ExplorerSiteOptions = {}): Promise<SiteFiles> {
  const count = o.samples ?? EXPLORE_DEFAULTS.samples;
  if (!Number.isInteger(count) || count < 0) throw new Error(`explorer: samples must be a non-negative integer, got ${count}`);
  const opened = typeof run === 'string' ? openRun(run, o.checkpoint ?? 'last') : run;
  try {
    const { bytes, info } = await exportRunOnnx({ run: opened, outputs: ['logits', 'maps'], includeNormalization: true, log: o.log });
    const ds = await runDataset(opened, 'test', { log: o.log });
    const files: SiteFiles = new Map();
    files.set(EXPLORER_MODEL_FILE, bytes);
    const [c, h, w] = info.inputShape;
    const samples: ExplorerSample[] = [];
    for (let i = 0; i < Math.min(count, ds.length); i++) {
      const file = `samples/${String(i).padStart(3, '0')}.png`;
      files.set(file, await samplePng(ds.images.subarray(i * c * h * w, (i + 1) * c * h * w), c, h, w));
      samples.push({ file, label: ds.labels[i]! });
    }
    const meta: ExplorerMeta = {
      version: 1, model: opened.config.model, strategy: opened.config.strategy, dataset: opened.dataset.name, run: basename(opened.dir), epoch: opened.epoch,
      classNames: info.classNames ?? opened.dataset.classes, inputShape: info.inputShape, mean: info.mean!, std: info.std!,
      gate: info.gate, numFilters: info.numFilters, samples,
    };
    files.set(EXPLORER_META_FILE, new TextEncoder().encode(JSON.stringify(meta)));
    for (const f of PAGE_FILES) files.set(f, readFileSync(join(publicDir(), f)));
    for (const f of ORT_FILES) files.set(`ort/${f}`, readFileSync(ortFile(f)));
    return files;
  } finally {
    if (typeof run === 'string') { opened.model.dispose(); opened.gate?.weight.dispose(); }
  }
}

/** What a site folder holds at its top: an existing folder holding only these (an earlier site) is replaced. */
const SITE_NAMES = [...PAGE_FILES, EXPLORER_MODEL_FILE, EXPLORER_META_FILE, 'samples', 'ort'];

/**
 * Writes the run's explorer site to the folder `dir` (--html): new, empty or an earlier site, replaced
 * as a whole once the new one is complete. Returns the files written, relative to dir.
 */
export async function writeExplorerSite(run: string | OpenRun, dir: string, o: ExplorerSiteOptions = {}): Promise<string[]> {
  checkOutputDir('--html', dir, { runs: typeof run === 'string' ? [run] : [run.dir], mode: 'replace', owns: SITE_NAMES });
  const files = await buildExplorerSite(run, o);
  await writingOutput('--html', dir, () => stagedWrite(dir, (tmp) => {
    for (const [rel, bytes] of files) {
      const path = join(tmp, ...rel.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, bytes);
    }
    return [];
  }));
  return [...files.keys()];
}

/** The regular files under a site folder (symlinks and dot files skipped), read into memory. */
export function readSiteFolder(dir: string): SiteFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`explorer: ${dir}: no such folder`);
  if (!existsSync(join(dir, EXPLORER_META_FILE))) throw new Error(`explorer: ${dir} has no ${EXPLORER_META_FILE}; write a site with csgnet export --run R --html ${dir}`);
  const files: SiteFiles = new Map();
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(abs, name), st = lstatSync(p);
      if (st.isDirectory()) walk(p, rel + name + '/');
      else if (st.isFile()) files.set(rel + name, readFileSync(p));
    }
  };
  walk(dir, '');
  return files;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.png': 'image/png', '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};
// onnxruntime-web compiles its wasm ('wasm-unsafe-eval'); dropped images become blob: URLs.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:";

/** The site file a URL path names, or null: decoded once, then looked up by exact name. */
export function siteFileFor(files: SiteFiles, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const rel = path === '/' ? 'index.html' : path.replace(/^\//, '');
  return files.has(rel) ? rel : null;
}

/** The HTTP app over a site: GET/HEAD of its files only, for the Host names of a server bound to `host`.
 *  A shared server (--allow-remote) tells the page so through explorer.json's `shared`. */
export function explorerApp(files: SiteFiles, host = SERVER_HOST, shared = false): Hono {
  if (shared && files.has(EXPLORER_META_FILE)) {
    const meta = JSON.parse(new TextDecoder().decode(files.get(EXPLORER_META_FILE)));
    files = new Map(files).set(EXPLORER_META_FILE, new TextEncoder().encode(JSON.stringify({ ...meta, shared: true })));
  }
  const app = new Hono();
  app.use('*', readOnlyLocal('explorer', allowedHosts(host)));
  app.get('*', (c) => {
    const rel = siteFileFor(files, new URL(c.req.url).pathname);
    if (!rel) return c.text('not found', 404);
    c.header('Content-Type', TYPES[extname(rel)] ?? 'application/octet-stream');
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Security-Policy', CSP);
    return c.body(new Uint8Array(files.get(rel)!));
  });
  app.onError((e, c) => c.text(`explorer error: ${e.message}`, 500));
  return app;
}

export interface ExplorerOptions extends ExplorerSiteOptions {
  /** A run folder (the site is built in memory) ... */
  run?: string;
  /** ... or a folder written by writeExplorerSite / csgnet export --html. */
  site?: string;
  /** Default 127.0.0.1 (loopback only); another address needs allowRemote. */
  host?: string;
  /** Confirms a --host other than loopback (the model and samples are then shared with the network). */
  allowRemote?: boolean;
  /** Default 6007; 0 picks a free port. */
  port?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

export interface Explorer { url: string; files: string[]; shared: boolean; close(): Promise<void> }

/** Serves a run's explorer (or a written site folder); resolves once it listens. */
export async function startExplorer(o: ExplorerOptions): Promise<Explorer> {
  if (!!o.run === !!o.site) throw new Error('explorer: give a run folder (--run) or a site folder, exactly one');
  const host = o.host ?? SERVER_HOST;
  const { shared } = checkBind(host, o.allowRemote, 'explorer');
  if (o.run && (!existsSync(o.run) || !statSync(o.run).isDirectory())) throw new Error(`explorer: --run ${o.run}: no such folder`);
  const files = o.site ? readSiteFolder(o.site) : await buildExplorerSite(o.run!, o);
  const port = o.port ?? EXPLORE_DEFAULTS.port;
  const app = explorerApp(files, host, shared);
  const { url, close } = await serve(app, host, port, { signal: o.signal });
  return { url, files: [...files.keys()], shared, close };
}
