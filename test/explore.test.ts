// The explorer's HTTP side without a browser: only the site's own files are served (traversal,
// encoded dots and slashes, symlinks and dot files inside the folder get 404), content types that
// onnxruntime-web needs, read-only, loopback host check, and clear errors for bad folders and options.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explorerApp, readSiteFolder, siteFileFor, startExplorer, writeExplorerSite, type SiteFiles } from '../src/app/explore.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-explore-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A site folder as writeExplorerSite lays it out (tiny stand-ins), plus things that must not be served. */
function siteFolder(): string {
  const dir = join(tmp, 'site');
  mkdirSync(join(dir, 'ort'), { recursive: true });
  mkdirSync(join(dir, 'samples'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'app.js'), 'export {};');
  writeFileSync(join(dir, 'explorer.json'), '{"version":1}');
  writeFileSync(join(dir, 'model.onnx'), new Uint8Array([8, 9]));
  writeFileSync(join(dir, 'ort', 'ort-wasm-simd-threaded.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, 'ort', 'ort.wasm.min.mjs'), 'export {};');
  writeFileSync(join(dir, 'samples', '000.png'), new Uint8Array([137, 80, 78, 71]));
  writeFileSync(join(tmp, 'secret.txt'), 'outside the site');
  writeFileSync(join(dir, '.hidden'), 'a dot file');
  symlinkSync(join(tmp, 'secret.txt'), join(dir, 'leak.txt'));
  symlinkSync(tmp, join(dir, 'up'));
  return dir;
}
const site = siteFolder();

/** GET with the path sent exactly as written (no URL normalization by a client library). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (r) => {
      let body = '';
      r.setEncoding('latin1');
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode!, type: String(r.headers['content-type'] ?? ''), body }));
    });
    req.on('error', rej);
    req.end();
  });
}

test('a site folder: exactly its regular files are read (no symlinks, no dot files)', () => {
  const files = readSiteFolder(site);
  assert.deepEqual([...files.keys()].sort(), ['app.js', 'explorer.json', 'index.html', 'model.onnx', 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort.wasm.min.mjs', 'samples/000.png']);
  assert.throws(() => readSiteFolder(join(tmp, 'missing')), /missing: no such folder/);
  mkdirSync(join(tmp, 'empty'), { recursive: true });
  assert.throws(() => readSiteFolder(join(tmp, 'empty')), /empty has no explorer\.json; write a site with csgnet export --run R --html/);
});

test('siteFileFor: exact names only; traversal, backslashes and bad encodings are not names', () => {
  const files: SiteFiles = new Map([['index.html', new Uint8Array()], ['samples/000.png', new Uint8Array()]]);
  assert.equal(siteFileFor(files, '/'), 'index.html');
  assert.equal(siteFileFor(files, '/samples/000.png'), 'samples/000.png');
  for (const bad of ['/../index.html', '/samples/../index.html', '/%2e%2e/index.html', '/samples%5c000.png', '/samples\\000.png', '//index.html', '/%E0%A4%A', '/index.html%00', '/index.html/']) {
    assert.equal(siteFileFor(files, bad), null, bad);
  }
});

test('the server: site files with the right types; everything else 404; read-only; loopback host only', async () => {
  const explorer = await startExplorer({ site, port: 0 });
  try {
    const index = await rawGet(explorer.url, '/');
    assert.equal(index.status, 200);
    assert.match(index.type, /^text\/html/);
    assert.match(index.body, /<title>x<\/title>/);
    const wasm = await rawGet(explorer.url, '/ort/ort-wasm-simd-threaded.wasm');
    assert.equal(wasm.status, 200);
    assert.equal(wasm.type, 'application/wasm', 'instantiateStreaming needs application/wasm');
    assert.match((await rawGet(explorer.url, '/ort/ort.wasm.min.mjs')).type, /^text\/javascript/);
    assert.equal((await rawGet(explorer.url, '/samples/000.png')).type, 'image/png');
    for (const path of ['/leak.txt', '/up/secret.txt', '/.hidden', '/../secret.txt', '/%2e%2e/secret.txt', '/samples/..%2f..%2fsecret.txt',
      '/samples/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/package.json', '/nope']) {
      const r = await rawGet(explorer.url, path);
      assert.equal(r.status, 404, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /outside the site/);
    }
    assert.equal((await rawGet(explorer.url, '/index.html', {}, 'POST')).status, 405);
    assert.equal((await rawGet(explorer.url, '/', { host: 'evil.example:80' })).status, 403, 'DNS rebinding: another host name is refused');
  } finally {
    await explorer.close();
  }
  // Bound to another address (--allow-remote), the Host check compares against that address.
  const open = explorerApp(readSiteFolder(site), '192.0.2.7');
  assert.equal((await open.request('/', { headers: { host: '192.0.2.7:6007' } })).status, 200);
  assert.equal((await open.request('/', { headers: { host: 'localhost:6007' } })).status, 200);
  assert.equal((await open.request('/', { headers: { host: 'explorer.lan' } })).status, 403);
  await assert.rejects(startExplorer({ site, host: '0.0.0.0', port: 0 }), /--host 0\.0\.0\.0 would share the explorer .* add --allow-remote/);
});

test('bad options and folders are named', async () => {
  await assert.rejects(startExplorer({ port: 0 }), /give a run folder \(--run\) or a site folder, exactly one/);
  await assert.rejects(startExplorer({ run: join(tmp, 'x'), site: join(tmp, 'y'), port: 0 }), /exactly one/);
  await assert.rejects(startExplorer({ run: join(tmp, 'no-run'), port: 0 }), /--run .*no-run: no such folder/);
  writeFileSync(join(tmp, 'a-file'), '');
  await assert.rejects(writeExplorerSite(join(tmp, 'no-run'), join(tmp, 'a-file')), /--html .*a-file: is a file, not a folder/);
  await assert.rejects(writeExplorerSite(join(tmp, 'no-run'), ''), /--html: empty path/);
  const taken = await startExplorer({ site, port: 0 });
  try {
    await assert.rejects(startExplorer({ site, port: Number(new URL(taken.url).port) }), /EADDRINUSE \(the port is taken; choose another with --port\)/);
  } finally {
    await taken.close();
  }
});
