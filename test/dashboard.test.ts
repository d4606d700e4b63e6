// The dashboard over HTTP, on hand-made run folders (no training): run list and statuses, a run's
// event stream (a new metrics line within 2 s, progress, reset, gone), runs appearing and vanishing,
// path traversal refused ('..', %2e%2e, encoded slashes and backslashes, symlinks out of the root),
// read-only, host check, startup errors, and the CLI's Ctrl-C.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startDashboard, type Dashboard } from '../src/app/dashboard/server.js';
import { JsonlTail } from '../src/app/dashboard/tail.js';
import { spawnCli } from './support/cli.js';
import { analysisKey } from '../src/app/analysis_key.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-dash-'));
const root = join(tmp, 'runs');
const SECRET = 'top-secret-outside-the-root';

const metricsLine = (epoch: number, valAcc: number) => JSON.stringify({ epoch, path: 'std', train_loss: 1 / (epoch + 1), train_ce: 1, train_reg: 0,
  train_acc: 0.5, val_acc: valAcc, density: null, lr: { std: 0.1 }, seconds: 1 }) + '\n';
const ev = (event: string, info: object) => JSON.stringify({ time: new Date().toISOString(), event, ...info }) + '\n';

function makeRun(name: string, o: { epochs: number; done: number; events?: string; lockedByMe?: boolean }): string {
  const dir = join(root, ...name.split('/'));
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: { model: 'lenet', strategy: 'csg', epochs: o.epochs, dataset: 'fashion-mnist' },
    dataset: { name: 'fashion-mnist', classes: [] } }));
  writeFileSync(join(dir, 'metrics.jsonl'), Array.from({ length: o.done }, (_, e) => metricsLine(e, 0.1 * (e + 1))).join(''));
  if (o.events) writeFileSync(join(dir, 'events.jsonl'), o.events);
  // This test process as the trainer: a live owner of the lock.
  if (o.lockedByMe) writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), start: null, since: new Date().toISOString() }));
  return dir;
}

mkdirSync(root, { recursive: true });
makeRun('a', { epochs: 2, done: 2, events: ev('stop', { reason: 'finished', epoch: 2, nextBatch: 0 }) });
makeRun('group/b', { epochs: 3, done: 1, events: ev('stop', { reason: 'error', epoch: 1, nextBatch: 0, detail: 'loss is NaN' }) });
const live = makeRun('c', { epochs: 5, done: 1, lockedByMe: true,
  events: ev('runStart', { epochs: 5 }) + ev('epochStart', { epoch: 1, epochs: 5, path: 'csg', batches: 10, startBatch: 0 }) + ev('batch', { epoch: 1, batch: 4, batches: 10, loss: 0.7, acc: 0.6, images: 16 }) });
makeRun('d', { epochs: 3, done: 1 });
// Killed (SIGKILL, OOM): its lock names a process that is gone, its log ends without a stop line.
const killed = makeRun('k', { epochs: 3, done: 1, events: ev('runStart', { epochs: 3 }) + ev('epochStart', { epoch: 1, epochs: 3, path: 'csg', batches: 10, startBatch: 0 }) });
writeFileSync(join(killed, 'lock'), JSON.stringify({ pid: 2 ** 30, host: hostname(), start: null, since: new Date().toISOString() }));
makeRun('.hidden', { epochs: 1, done: 1 });
mkdirSync(join(root, 'notes'));
writeFileSync(join(root, 'notes', 'todo.txt'), 'not a run');
writeFileSync(join(root, 'group', 'b', 'report.html'), '<!doctype html><title>report of b</title><p>the report</p>');
// Outside the root: a run folder and a secret file, reached through symlinks from inside.
const outside = join(tmp, 'outside');
mkdirSync(outside);
writeFileSync(join(outside, 'config.json'), '{"train":{},"dataset":{}}');
writeFileSync(join(outside, 'report.html'), SECRET);
writeFileSync(join(outside, 'metrics.jsonl'), SECRET + '\n');
symlinkSync(outside, join(root, 'escape'));
symlinkSync(join(outside, 'report.html'), join(root, 'a', 'report.html'));

let dash: Dashboard;
after(async () => {
  await dash?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A GET with the path sent exactly as written (fetch would normalize '..' away before sending). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode!, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

interface SseEvent { event: string; data: any; at: number }

/** Server-sent events of `path`, parsed; next() waits for one matching `pred`. */
function sse(url: string, path: string) {
  const queue: SseEvent[] = [];
  let wake: (() => void) | null = null;
  let buf = '';
  const req = request(new URL(path, url), (r) => {
    r.setEncoding('utf8');
    r.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) queue.push({ event, data: data ? JSON.parse(data) : null, at: performance.now() });
      }
      wake?.();
    });
  });
  req.end();
  return {
    async next(pred: (e: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex(pred);
        if (i >= 0) return queue.splice(i, 1)[0];
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${queue.map((e) => e.event).join(', ')}`);
        await new Promise<void>((res) => { wake = res; setTimeout(res, Math.min(left, 100)); });
      }
    },
    close: () => req.destroy(),
  };
}

test('starts on a free loopback port; missing folders and taken ports are named', async () => {
  dash = await startDashboard({ runsDir: root, port: 0 });
  assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  await assert.rejects(startDashboard({ runsDir: join(tmp, 'nope'), port: 0 }), /--runs .*nope: no such folder/);
  const port = new URL(dash.url).port;
  await assert.rejects(startDashboard({ runsDir: root, port: Number(port) }), new RegExp(`cannot listen on 127.0.0.1:${port}: EADDRINUSE \\(the port is taken`));
});

test('the run list: nested runs, statuses from lock, stop event and epoch count; no hidden, non-run or symlinked folders', async () => {
  const r = await fetch(new URL('/api/runs', dash.url));
  assert.equal(r.status, 200);
  const { runs } = await r.json() as any;
  assert.deepEqual(runs.map((x: any) => [x.name, x.status, x.epochsDone, x.epochs]),
    [['a', 'finished', 2, 2], ['c', 'training', 1, 5], ['d', 'stopped', 1, 3], ['group/b', 'failed', 1, 3], ['k', 'stopped', 1, 3]]);
  assert.equal(runs.find((x: any) => x.name === 'k').detail, 'ended without a stop event (killed?)');
  const b = runs.find((x: any) => x.name === 'group/b');
  assert.equal(b.detail, 'error: loss is NaN');
  assert.equal(b.hasReport, true);
  assert.equal(b.last.val_acc, 0.1);
  assert.equal(runs.find((x: any) => x.name === 'a').hasReport, true, 'a symlinked report is listed, but refused when read (below)');
});

test("a run's stream: hello with metrics and progress, a new metrics line within 2 s, progress, reset, gone", async () => {
  const s = sse(dash.url, '/api/runs/c/stream');
  try {
    const hello = await s.next((e) => e.event === 'hello');
    assert.equal(hello.data.run.status, 'training');
    assert.equal(hello.data.metrics.length, 1);
    assert.deepEqual([hello.data.progress.epoch, hello.data.progress.batch, hello.data.progress.batches, hello.data.progress.path], [1, 4, 10, 'csg']);
    // An epoch ends: its line is appended (as RunDir does) and must reach the client within 2 s.
    const t0 = performance.now();
    appendFileSync(join(live, 'metrics.jsonl'), metricsLine(1, 0.42));
    const m = await s.next((e) => e.event === 'metrics', 2000);
    assert.ok(m.at - t0 < 2000, `metrics line after ${(m.at - t0).toFixed(0)} ms`);
    assert.equal(m.data.val_acc, 0.42);
    appendFileSync(join(live, 'events.jsonl'), ev('epochStart', { epoch: 2, epochs: 5, path: 'std', batches: 10, startBatch: 0 }) +
      ev('batch', { epoch: 2, batch: 3, batches: 10, loss: 0.5, acc: 0.7, images: 16 }) + '{"time":"x","event":"ba');
    const p1 = await s.next((e) => e.event === 'progress');
    const p2 = await s.next((e) => e.event === 'progress');
    assert.deepEqual([p1.data.epoch, p1.data.batch, p2.data.epoch, p2.data.batch, p2.data.loss], [2, 0, 2, 3, 0.5]);
    // A resumed run rewrites metrics.jsonl from its checkpoint (atomic rename): the client gets the whole list again.
    writeFileSync(join(live, 'metrics.tmp'), metricsLine(0, 0.3));
    renameSync(join(live, 'metrics.tmp'), join(live, 'metrics.jsonl'));
    const reset = await s.next((e) => e.event === 'reset');
    assert.deepEqual(reset.data.metrics.map((x: any) => x.val_acc), [0.3]);
    // The trainer stops: the lock goes, a stop line is written.
    appendFileSync(join(live, 'events.jsonl'), '\n' + ev('stop', { reason: 'interrupted', epoch: 2, nextBatch: 3, detail: 'SIGINT' }));
    rmSync(join(live, 'lock'));
    const st = await s.next((e) => e.event === 'status' && e.data.status === 'stopped');
    assert.equal(st.data.detail, 'interrupted: SIGINT');
    rmSync(live, { recursive: true });
    await s.next((e) => e.event === 'gone');
  } finally {
    s.close();
  }
});

test('runs that appear and vanish while it runs show up in the run list stream', async () => {
  const s = sse(dash.url, '/api/stream');
  try {
    const names = (e: SseEvent) => e.data.runs.map((r: any) => r.name);
    const first = await s.next((e) => e.event === 'runs');
    assert.ok(!names(first).includes('new/one'));
    makeRun('new/one', { epochs: 1, done: 0 });
    await s.next((e) => e.event === 'runs' && names(e).includes('new/one'), 3000);
    rmSync(join(root, 'new'), { recursive: true });
    await s.next((e) => e.event === 'runs' && !names(e).includes('new/one'), 3000);
    assert.equal((await rawGet(dash.url, '/api/runs/new/one/metrics')).status, 404);
  } finally {
    s.close();
  }
});

test('traversal is refused: .., %2e%2e, encoded slashes and backslashes, symlinks out of the root', async () => {
  const attempts: [string, number[]][] = [
    ['/runs/../../etc/passwd', [404]],
    ['/runs/%2e%2e/%2e%2e/etc/report', [404]],
    ['/api/runs/..%2f..%2foutside/metrics', [403]],
    ['/api/runs/%2e%2e%2Foutside/metrics', [403]],
    ['/api/runs/a%5c..%5c..%5coutside/stream', [403]],
    ['/api/runs/a/%2e%2e/%2e%2e/outside/metrics', [403, 404]],
    ['/runs/%2e%2e/outside/report', [403, 404]],
    ['/runs/a%00/report', [403]],
    ['/api/runs/escape/metrics', [403, 404]],
    ['/runs/escape/report', [403, 404]],
    ['/runs/a/report', [403]],
    ['/static/..%2fserver.js', [404]],
    ['/static/%2e%2e%2f%2e%2e%2fpackage.json', [404]],
    ['/vendor/..%2f..%2fpackage.json', [404]],
    ['/api/runs/no-such-run/metrics', [404]],
  ];
  for (const [path, codes] of attempts) {
    const r = await rawGet(dash.url, path);
    assert.ok(codes.includes(r.status), `${path}: status ${r.status}, expected ${codes.join(' or ')}`);
    assert.ok(!r.body.includes(SECRET) && !r.body.includes('root:'), `${path}: leaked content`);
  }
});

test("reports, the page and its scripts are served; it is read-only and refuses other hosts", async () => {
  const rep = await rawGet(dash.url, '/runs/group/b/report');
  assert.equal(rep.status, 200);
  assert.match(rep.body, /the report/);
  const none = await rawGet(dash.url, '/runs/d/report');
  assert.equal(none.status, 404);
  assert.match(none.body, /csgnet report \S+d --out \S+d\/report\.html/);
  const page = await rawGet(dash.url, '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<script src="\/vendor\/vega-embed\.min\.js">/);
  assert.doesNotMatch(page.body, /https?:\/\/(?!www\.w3\.org)/, 'no CDN');
  for (const f of ['/vendor/vega.min.js', '/vendor/vega-lite.min.js', '/vendor/vega-embed.min.js', '/static/app.js', '/static/style.css']) {
    assert.equal((await rawGet(dash.url, f)).status, 200, f);
  }
  assert.equal((await rawGet(dash.url, '/api/runs', {}, 'POST')).status, 405);
  assert.equal((await rawGet(dash.url, '/api/runs', {}, 'DELETE')).status, 405);
  assert.equal((await rawGet(dash.url, '/api/runs', { Host: 'attacker.example:80' })).status, 403);
});

test('csgnet dashboard prints its URL and Ctrl-C closes it', async () => {
  const child = spawnCli(['dashboard', '--runs', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (d) => { out += d; const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out); if (m) res(m[1]); });
    child.on('exit', (c) => rej(new Error(`exited ${c}: ${out}`)));
  });
  const s = sse(url, '/api/stream'); // an open stream must not keep it from closing
  await s.next((e) => e.event === 'runs');
  const r = await fetch(new URL('/api/runs', url));
  assert.equal(r.status, 200);
  const code = await new Promise<number | null>((res) => { child.on('exit', (c) => res(c)); child.kill('SIGINT'); });
  s.close();
  assert.equal(code, 0);
});

test('JsonlTail: whole lines only, a character cut between polls, a rewritten file starts over', () => {
  const file = join(tmp, 'tail.jsonl');
  writeFileSync(file, '{"a":1}\n{"b":');
  const t = new JsonlTail(file);
  assert.deepEqual(t.poll(), { reset: false, lines: [{ a: 1 }] });
  // "é" is two bytes in UTF-8: the first arrives in one poll, the second in the next.
  const rest = Buffer.from('"é"}\n', 'utf8');
  appendFileSync(file, rest.subarray(0, 2));
  assert.deepEqual(t.poll(), { reset: false, lines: [] });
  appendFileSync(file, rest.subarray(2));
  assert.deepEqual(t.poll(), { reset: false, lines: [{ b: 'é' }] });
  writeFileSync(join(tmp, 'tail.new'), '{"c":3}\n');
  renameSync(join(tmp, 'tail.new'), file);
  assert.deepEqual(t.poll(), { reset: true, lines: [{ c: 3 }] });
  const fromEnd = new JsonlTail(file, true);
  appendFileSync(file, '{"d":4}\n');
  assert.deepEqual(fromEnd.poll(), { reset: false, lines: [{ d: 4 }] });
  rmSync(file);
  assert.deepEqual(fromEnd.poll(), { reset: true, lines: [] });
});

test("a run's stream says which result files are current and why the others are stale (the freshness test of compare and report)", async () => {
  const dir = makeRun('results', { epochs: 1, done: 1, events: ev('stop', { reason: 'finished', epoch: 1, nextBatch: 0 }) });
  writeFileSync(join(dir, 'checkpoints', 'last.safetensors'), 'weights');
  const key = analysisKey(dir, { checkpoint: 'last' });
  mkdirSync(join(dir, 'analysis')); mkdirSync(join(dir, 'localization')); mkdirSync(join(dir, 'adversarial'));
  writeFileSync(join(dir, 'analysis', 'analysis.json'), JSON.stringify({ key }));
  // An older csgnet's localization.json (snake_case key): still current.
  writeFileSync(join(dir, 'localization', 'localization.json'), JSON.stringify({ checkpoint_key: key.checkpoint }));
  // From another checkpoint: stale.
  writeFileSync(join(dir, 'adversarial', 'adversarial.json'), JSON.stringify({ checkpointKey: { ...key.checkpoint, sha256: '0'.repeat(64) } }));
  const s = sse(dash.url, '/api/runs/results/stream');
  try {
    const hello = await s.next((e) => e.event === 'hello');
    assert.deepEqual(hello.data.results, [
      { kind: 'analysis', file: join('analysis', 'analysis.json'), current: true, why: '' },
      { kind: 'localization', file: join('localization', 'localization.json'), current: true, why: '' },
      { kind: 'adversarial', file: join('adversarial', 'adversarial.json'), current: false,
        why: `${join('adversarial', 'adversarial.json')} was made from an older checkpoints/last.safetensors (its content changed since)` },
    ]);
    assert.ok(!JSON.stringify(hello.data.results).includes(root), 'the runs root is not shown');
  } finally {
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});
