// `csgnet dashboard`: a read-only local web app over a runs folder. It lists the runs with their
// status, streams a run's metrics and the current epoch's progress (server-sent events fed by polling
// metrics.jsonl and events.jsonl), and serves each run's report.html. The page is plain ES modules
// from ./public with vega, vega-lite and vega-embed served from node_modules: no build step, no CDN.
// Only GET; binds loopback unless told otherwise; every run name from a URL is checked (safe_path.ts).
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Hono, type Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { packageRoot } from '../../util/paths.js';
import { packageFile } from '../../util/optional.js';
import { allowedHosts, checkBind, readOnlyLocal, serve } from '../serve.js';
import { setMaxListeners } from 'node:events';
import { CONFIG_FILE } from '../../csg/run_dir.js';
import { DASHBOARD_DEFAULTS, SERVER_HOST } from '../defaults.js';
import type { RunEvent } from '../../csg/events_log.js';
import { ForbiddenPathError, resolveInside, runNameFromSegments } from './safe_path.js';
import { resultStates } from './results.js';
import { EVENTS_FILE, METRICS_FILE, REPORT_FILE, discoverRuns, filesInside, listRuns, nextProgress, recentEvents, summarizeRun, type Progress } from './runs.js';
import { JsonlTail } from './tail.js';
import { esc } from '../../report/html/escape.js';

export interface DashboardOptions {
  runsDir: string;
  /** Default 127.0.0.1 (loopback only); another address needs allowRemote. */
  host?: string;
  /** Confirms a --host other than loopback: the runs are then shared with the network (the page says so). */
  allowRemote?: boolean;
  /** Open event streams at most (default MAX_STREAMS); more get 503. */
  maxStreams?: number;
  /** Default 6006; 0 picks a free port. */
  port?: number;
  /** Closes the dashboard when aborted. */
  signal?: AbortSignal;
  /** How often files are polled for a run's stream, in ms (default 250; the run list every 4 of these). */
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  /** Bound to a non-loopback address (--allow-remote). */
  shared: boolean;
  close(): Promise<void>;
}

/** Concurrent event streams (run list and per-run) served at once; each polls files every pollMs. */
export const MAX_STREAMS = 32;

const PUBLIC_DIR = join(packageRoot(), 'src', 'app', 'dashboard', 'public');
const VENDOR: Record<string, [pkg: string, file: string]> = {
  'vega.min.js': ['vega', 'build/vega.min.js'],
  'vega-lite.min.js': ['vega-lite', 'build/vega-lite.min.js'],
  'vega-embed.min.js': ['vega-embed', 'build/vega-embed.min.js'],
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.json': 'application/json',
};
// Vega compiles its expressions with Function(): 'unsafe-eval', but nothing from another origin.
const CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";
// A run's report.html is one self-contained file with inline scripts and styles, written by whoever
// wrote the run folder. It is served sandboxed (an opaque origin: it cannot read the dashboard's API
// or cookies) and may load nothing from anywhere.
export const REPORT_CSP = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'";

/** node_modules/<pkg>/<file> in the nearest node_modules above the package (packages may be hoisted); null if missing. */
function vendorPath(pkg: string, file: string): string | null {
  try { return packageFile(pkg, file, 'the dashboard'); } catch { return null; }
}


/** The run-list and per-run routes over the real runs root `root`. */
function buildApp(root: string, shownRoot: string, pollMs: number, closing: AbortSignal, host: string, shared: boolean, maxStreams: number): Hono {
  const app = new Hono();
  const publicFiles = new Set(readdirSync(PUBLIC_DIR));

  app.use('*', readOnlyLocal('dashboard', allowedHosts(host)));

  const sendFile = (c: Context, path: string, csp = CSP) => {
    c.header('Content-Type', TYPES[extname(path)] ?? 'application/octet-stream');
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Security-Policy', csp);
    return c.body(new Uint8Array(readFileSync(path)));
  };
  // Each stream waits on `closing` while it polls: room for every stream's listener without Node's warning.
  setMaxListeners(maxStreams + 16, closing);
  let streams = 0;
  /** An event stream, or 503 when maxStreams are open already. */
  const capped = (c: Context, body: (stream: SSEStreamingApi) => Promise<void>) => {
    if (streams >= maxStreams) {
      c.header('Retry-After', '5');
      return c.text(`too many open streams (${maxStreams}); close a dashboard tab`, 503);
    }
    streams++;
    return streamSSE(c, async (stream) => {
      try { await body(stream); } finally { streams--; }
    });
  };

  app.get('/', (c) => sendFile(c, join(PUBLIC_DIR, 'index.html')));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/static/:file', (c) => {
    const f = c.req.param('file');
    return publicFiles.has(f) ? sendFile(c, join(PUBLIC_DIR, f)) : c.text('not found', 404);
  });
  app.get('/vendor/:file', (c) => {
    const v = VENDOR[c.req.param('file')];
    const path = v && vendorPath(v[0], v[1]);
    return path ? sendFile(c, path) : c.text('not found', 404);
  });

  app.get('/api/runs', (c) => c.json({ root: shownRoot, shared, runs: listRuns(root) }));
  app.get('/api/stream', (c) => capped(c, async (stream) => {
    let last = '';
    while (!stream.aborted && !closing.aborted) {
      const runs = JSON.stringify({ root: shownRoot, shared, runs: listRuns(root) });
      if (runs !== last) { last = runs; await stream.writeSSE({ event: 'runs', data: runs }); }
      await pause(pollMs * 4, closing);
    }
  }));

  /** Run name and action from /<prefix>/<name...>/<action>; a 403 or 404 Response when refused. */
  const runRoute = (c: Context, prefix: number, actions: string[]): { name: string; dir: string; action: string } | Response => {
    const segments = new URL(c.req.url).pathname.split('/').slice(prefix + 1);
    const action = segments.pop() ?? '';
    try {
      const name = runNameFromSegments(segments);
      if (!actions.includes(action)) return c.text('not found', 404);
      const dir = resolveInside(root, name);
      if (!dir || !discoverRuns(root).includes(name)) return c.text(`no run named ${name}`, 404);
      if (!filesInside(root, name)) return c.text(`refused: a file of ${name} leads outside the runs folder`, 403);
      return { name, dir, action };
    } catch (e) {
      if (e instanceof ForbiddenPathError) return c.text(`refused: ${e.message}`, 403);
      throw e;
    }
  };
  /** A file of a run, refused when it is a symlink leading out of the root; null if missing. */
  const runFile = (name: string, file: string): string | null => resolveInside(root, `${name}/${file}`);

  app.get('/api/runs/*', (c) => {
    const r = runRoute(c, 2, ['metrics', 'stream']);
    if (r instanceof Response) return r;
    try {
      if (r.action === 'metrics') {
        const f = runFile(r.name, METRICS_FILE);
        return c.json(f ? new JsonlTail(f).poll().lines : []);
      }
      runFile(r.name, METRICS_FILE); runFile(r.name, EVENTS_FILE); // refuse symlinked logs before streaming
      return capped(c, (stream) => followRun(stream, root, r.name, r.dir, pollMs, closing));
    } catch (e) {
      if (e instanceof ForbiddenPathError) return c.text(`refused: ${e.message}`, 403);
      throw e;
    }
  });

  app.get('/runs/*', (c) => {
    const r = runRoute(c, 1, ['report']);
    if (r instanceof Response) return r;
    let report: string | null;
    try {
      report = runFile(r.name, REPORT_FILE);
    } catch (e) {
      if (e instanceof ForbiddenPathError) return c.text(`refused: ${e.message}`, 403);
      throw e;
    }
    if (report && statSync(report).isFile()) return sendFile(c, report, REPORT_CSP);
    const run = join(shownRoot, ...r.name.split('/'));
    return c.html(`<!doctype html><meta charset="utf-8"><title>No report: ${esc(r.name)}</title><link rel="stylesheet" href="/static/style.css">` +
      `<main class="message"><h1>No report yet for ${esc(r.name)}</h1><p>Make one with</p>` +
      `<pre>csgnet report ${esc(run)} --out ${esc(join(run, REPORT_FILE))}</pre><p><a href="/">Back to the runs</a></p></main>`, 404);
  });

  app.notFound((c) => c.text('not found', 404));
  app.onError((e, c) => c.text(`dashboard error: ${e.message}`, 500));
  return app;
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal.aborted) return res();
    const done = () => { clearTimeout(t); signal.removeEventListener('abort', done); res(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/**
 * One run's stream: `hello` (summary, all metrics, progress), then `metrics` per new line, `reset`
 * (metrics.jsonl rewritten: the whole list again), `progress`, `event` (runStart, checkpoint, epochEnd,
 * stop), `status` when the summary changes, and `gone` when the run folder disappears.
 */
async function followRun(stream: SSEStreamingApi, root: string, name: string, dir: string, pollMs: number, closing: AbortSignal): Promise<void> {
  const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
  const metrics = new JsonlTail(join(dir, METRICS_FILE));
  const events = new JsonlTail<RunEvent>(join(dir, EVENTS_FILE), true);
  let progress: Progress | null = null;
  for (const e of recentEvents(join(dir, EVENTS_FILE))) progress = nextProgress(progress, e);
  let summary = summarizeRun(root, name);
  await send('hello', { run: summary, metrics: metrics.poll().lines, progress, results: resultStates(dir) });
  let ticks = 0, lastWrite = Date.now();
  while (!stream.aborted && !closing.aborted) {
    await pause(pollMs, closing);
    if (stream.aborted || closing.aborted) break;
    if (!existsSync(join(dir, CONFIG_FILE))) { await send('gone', { name }); break; }
    const m = metrics.poll();
    if (m.reset) await send('reset', { metrics: m.lines });
    else for (const line of m.lines) await send('metrics', line);
    for (const e of events.poll().lines) {
      const p = nextProgress(progress, e);
      if (p !== progress) { progress = p; await send('progress', p); } else await send('event', e);
    }
    // The summary (lock, report, epoch count) every fourth poll, or at once when an epoch ended.
    if (++ticks % 4 === 0 || m.lines.length) {
      const s = summarizeRun(root, name);
      if (!s) { await send('gone', { name }); break; }
      const { updated: _a, ...now } = s;
      const { updated: _b, ...before } = summary ?? ({} as any);
      if (JSON.stringify(now) !== JSON.stringify(before)) await send('status', s);
      summary = s;
    }
    // A comment now and then lets a proxy or the browser notice a dead connection.
    if (Date.now() - lastWrite > 15000) { await stream.write(': ping\n\n'); lastWrite = Date.now(); }
  }
}

/** Starts the dashboard over `runsDir`; resolves once it listens. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const host = o.host ?? SERVER_HOST;
  const port = o.port ?? DASHBOARD_DEFAULTS.port;
  const { shared } = checkBind(host, o.allowRemote, 'dashboard');
  if (!existsSync(o.runsDir) || !statSync(o.runsDir).isDirectory()) throw new Error(`--runs ${o.runsDir}: no such folder`);
  const root = realpathSync(o.runsDir);
  const closing = new AbortController();
  const app = buildApp(root, o.runsDir, o.pollMs ?? 250, closing.signal, host, shared, o.maxStreams ?? MAX_STREAMS);
  const { url, close } = await serve(app, host, port, { onClose: () => closing.abort(), signal: o.signal });
  return { url, shared, close };
}
