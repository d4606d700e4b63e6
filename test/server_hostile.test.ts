// The dashboard and explorer servers against a hostile client (issue 22): Host names that only
// resolve to loopback (DNS rebinding), malformed Host headers, symlinked run files in the run list and
// its stream, --host without --allow-remote, the sandboxing CSP of served reports, the stream cap,
// methods and oversize requests. Requests go to loopback only, through raw sockets where a header must
// be sent as written.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { startDashboard, REPORT_CSP } from '../src/app/dashboard/server.js';
import { explorerApp } from '../src/app/explore.js';
import { hostOfHeader } from '../src/app/serve.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-hostile-'));
const root = join(tmp, 'runs');
const SECRET = 'secret-outside-the-runs-root';
after(() => rmSync(tmp, { recursive: true, force: true }));

const config = JSON.stringify({ train: { model: 'lenet', strategy: 'std', epochs: 1 }, dataset: { name: 'fashion-mnist', classes: [] } });
function run(name: string) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), config);
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  return dir;
}
run('plain');
writeFileSync(join(root, 'plain', 'report.html'), '<!doctype html><title>r</title><script>document.title = "ran"</script>');
const outside = join(tmp, 'outside');
mkdirSync(outside);
writeFileSync(join(outside, 'metrics.jsonl'), JSON.stringify({ epoch: 1, path: 'std', val_acc: 0.5, note: SECRET }) + '\n');
writeFileSync(join(outside, 'config.json'), JSON.stringify({ train: { model: SECRET, epochs: 1 }, dataset: { name: SECRET } }));
// Runs whose own files are links out of the root (the folders themselves are real).
const leakMetrics = run('leak-metrics');
rmSync(join(leakMetrics, 'metrics.jsonl'));
symlinkSync(join(outside, 'metrics.jsonl'), join(leakMetrics, 'metrics.jsonl'));
const leakConfig = join(root, 'leak-config');
mkdirSync(leakConfig);
symlinkSync(join(outside, 'config.json'), join(leakConfig, 'config.json'));

/** A GET with headers sent exactly as given (Host included). */
function get(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, setHost: false }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode!, headers: r.headers, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

/** Opens an event stream and resolves with its status once the response head arrives (kept open). */
function openStream(port: number, path: string): Promise<{ status: number; req: ClientRequest; first: Promise<string> }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}` } }, (r) => {
      r.setEncoding('utf8');
      const first = new Promise<string>((done) => { let buf = ''; r.on('data', (d) => { buf += d; if (buf.includes('\n\n')) done(buf); }); r.on('end', () => done(buf)); });
      r.on('error', () => {});
      res({ status: r.statusCode!, req, first });
    });
    req.on('error', (e) => { if (!req.destroyed) rej(e); });
    req.end();
  });
}

test('Host header parsing: names, IPv6 in brackets, ports; malformed ones are null', () => {
  assert.equal(hostOfHeader('LocalHost:6006'), 'localhost');
  assert.equal(hostOfHeader('[::1]:6006'), '[::1]');
  assert.equal(hostOfHeader('127.attacker.example'), '127.attacker.example');
  for (const bad of ['', 'a b', 'localhost:', 'localhost:abc', 'localhost:1234567', 'user@localhost', 'localhost/x', '[::1']) assert.equal(hostOfHeader(bad), null, bad);
});

test('dashboard: only loopback names (or the bound address) pass the Host check', async () => {
  const d = await startDashboard({ runsDir: root, port: 0 });
  const port = Number(new URL(d.url).port);
  try {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', '127.0.0.1']) {
      assert.equal((await get(port, '/api/runs', { Host: host })).status, 200, host);
    }
    for (const host of ['127.attacker.example', `127.attacker.example:${port}`, '127.0.0.1.nip.io', 'localhost.attacker.example', 'attacker.example',
      '127.1', '0.0.0.0', '', 'localhost:abc', 'evil@localhost']) {
      const r = await get(port, '/api/runs', { Host: host });
      // A malformed Host (empty, a bad port) is refused by Node's parser with 400 before the app sees it.
      assert.ok(r.status === 403 || (r.status === 400 && hostOfHeader(host) === null), `Host: ${host}: ${r.status}`);
      assert.doesNotMatch(r.body, /plain/);
    }
    const noHost = await new Promise<string>((res) => {
      const s = connect(port, '127.0.0.1', () => s.end('GET /api/runs HTTP/1.0\r\n\r\n'));
      let buf = ''; s.on('data', (b) => (buf += b)); s.on('close', () => res(buf));
    });
    assert.match(noHost, /^HTTP\/1\.[01] (403|400)/, 'a request without Host is refused');
  } finally {
    await d.close();
  }
});

test('dashboard: runs whose files link out of the root are left out of the list and the list stream', async () => {
  const d = await startDashboard({ runsDir: root, port: 0 });
  const port = Number(new URL(d.url).port);
  try {
    const list = await get(port, '/api/runs', { Host: 'localhost' });
    assert.equal(list.status, 200);
    assert.doesNotMatch(list.body, new RegExp(SECRET));
    assert.deepEqual(JSON.parse(list.body).runs.map((r: { name: string }) => r.name), ['plain']);
    const s = await openStream(port, '/api/stream');
    assert.equal(s.status, 200);
    const first = await s.first;
    s.req.destroy();
    assert.match(first, /event: runs/);
    assert.doesNotMatch(first, new RegExp(SECRET));
    assert.doesNotMatch(first, /leak-/);
    for (const p of ['/api/runs/leak-metrics/metrics', '/api/runs/leak-metrics/stream', '/api/runs/leak-config/metrics']) {
      const r = await get(port, p, { Host: 'localhost' });
      assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, new RegExp(SECRET));
    }
  } finally {
    await d.close();
  }
});

test('--host other than loopback needs allowRemote; then the Host check compares against the bound address', async () => {
  await assert.rejects(startDashboard({ runsDir: root, host: '0.0.0.0', port: 0 }), /--host 0\.0\.0\.0 would share the dashboard .* add --allow-remote/);
  const d = await startDashboard({ runsDir: root, host: '0.0.0.0', allowRemote: true, port: 0 });
  const port = Number(new URL(d.url).port);
  try {
    assert.equal(d.shared, true);
    const r = await get(port, '/api/runs', { Host: `127.0.0.1:${port}` });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).shared, true, 'the page is told it is shared');
    assert.equal((await get(port, '/api/runs', { Host: '127.attacker.example' })).status, 403);
  } finally {
    await d.close();
  }
  const ex = explorerApp(new Map([['index.html', new TextEncoder().encode('<p>x')]]), '198.51.100.4');
  assert.equal((await ex.request('/', { headers: { host: '198.51.100.4:6007' } })).status, 200);
  assert.equal((await ex.request('/', { headers: { host: '127.attacker.example' } })).status, 403);
});

test('served reports are sandboxed; methods other than GET/HEAD and oversize requests are refused', async () => {
  const d = await startDashboard({ runsDir: root, port: 0 });
  const port = Number(new URL(d.url).port);
  try {
    const rep = await get(port, '/runs/plain/report', { Host: 'localhost' });
    assert.equal(rep.status, 200);
    assert.equal(rep.headers['content-security-policy'], REPORT_CSP);
    assert.match(REPORT_CSP, /^sandbox allow-scripts;/);
    assert.doesNotMatch(REPORT_CSP, /allow-same-origin/, 'the report gets an opaque origin: it cannot read the API');
    assert.match(String((await get(port, '/', { Host: 'localhost' })).headers['content-security-policy']), /default-src 'self'/);
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) assert.equal((await get(port, '/api/runs', { Host: 'localhost' }, m)).status, 405, m);
    const long = await get(port, '/api/runs/' + 'a'.repeat(70_000) + '/metrics', { Host: 'localhost' }).catch(() => ({ status: 0 }));
    assert.ok([0, 404, 414, 431].includes(long.status), `oversize URL: ${long.status}`);
    const big = await get(port, '/api/runs', { Host: 'localhost', 'X-Big': 'x'.repeat(70_000) }).catch(() => ({ status: 0 }));
    assert.ok([0, 431].includes(big.status), `oversize header: ${big.status}`);
    assert.equal((await get(port, '/api/runs', { Host: 'localhost' })).status, 200, 'still serving');
  } finally {
    await d.close();
  }
});

test('event streams are capped (503 past the cap, a closed one frees its place) without listener warnings', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  const d = await startDashboard({ runsDir: root, port: 0, maxStreams: 12, pollMs: 50 });
  const port = Number(new URL(d.url).port);
  const open: ClientRequest[] = [];
  try {
    for (let i = 0; i < 12; i++) {
      const s = await openStream(port, i % 2 ? '/api/stream' : '/api/runs/plain/stream');
      assert.equal(s.status, 200, `stream ${i}`);
      open.push(s.req);
    }
    const over = await get(port, '/api/stream', { Host: 'localhost' });
    assert.equal(over.status, 503);
    assert.equal(over.headers['retry-after'], '5');
    assert.match(over.body, /too many open streams \(12\)/);
    open.pop()!.destroy();
    let again = 503;
    for (let i = 0; i < 40 && again === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const s = await openStream(port, '/api/stream');
      again = s.status;
      if (again === 200) open.push(s.req); else s.req.destroy();
    }
    assert.equal(again, 200, 'a closed stream frees its place');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(warnings.filter((w) => w === 'MaxListenersExceededWarning'), []);
  } finally {
    for (const r of open) r.destroy();
    process.off('warning', onWarning);
    await d.close();
  }
});
