// c10d over gloo between real processes: two node children on localhost meet through a TCPStore
// (or a FileStore) and run every collective; a peer that dies and a master nobody serves become errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { packageRoot } from '../src/util/paths.js';
import { spawnCli } from './support/cli.js';

const worker = join(packageRoot(), 'dist', 'test', 'support', 'dist_worker.js');
const tmp = mkdtempSync(join(tmpdir(), 'csgnet-dist-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

interface Result { code: number | null; out: any }

function rank(scenario: string, r: number, port: number, storePath?: string): Promise<Result> {
  return new Promise((resolve) => {
    const args = [worker, scenario, String(r), '2', String(port), ...(storePath ? [storePath] : [])];
    const child = spawn('node', args, { env: { ...process.env, OMP_NUM_THREADS: '1', UV_THREADPOOL_SIZE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let out: any = null;
      try { out = JSON.parse(line); } catch { out = { unparsed: stdout, stderr }; }
      resolve({ code, out });
    });
  });
}

function checkCollectives(results: Result[]): void {
  for (const [r, { code, out }] of results.entries()) {
    assert.equal(code, 0, JSON.stringify(out));
    assert.equal(out.rank, r);
    assert.deepEqual(out.allReduceF32, [3, 30, 0.5]);
    assert.deepEqual(out.allReduceF64, [[1, -1], [1e-3, 2]]);
    assert.deepEqual(out.allReduceI64, [String(5), String(2 ** 41)]);
    assert.deepEqual(out.broadcast0, [[0, 1, 2], [3, 4, 5]]);  // rank 0's arange, not rank 1's doubled one
    assert.deepEqual(out.broadcast1, [101, 101]);
    assert.deepEqual(out.allGather, [[0, 0, 7], [1, 2, 7]]);
  }
  // rank 0 waited ~400 ms in barrier() for rank 1: its timers kept firing and, with a libuv pool of
  // one thread, a file read finished meanwhile.
  assert.ok(results[0].out.ticksDuringBarrier > 3, `ticks during barrier: ${results[0].out.ticksDuringBarrier}`);
  assert.equal(results[0].out.readWhileWaiting, true);
}

test('allReduce (sum), broadcast, allGather and barrier across 2 processes over a TCPStore', async () => {
  const port = await freePort();
  checkCollectives(await Promise.all([rank('collectives', 0, port), rank('collectives', 1, port)]));
});

test('the same collectives with a FileStore rendezvous', async () => {
  const store = join(tmp, 'store');
  checkCollectives(await Promise.all([rank('collectives', 0, 0, store), rank('collectives', 1, 0, store)].map(async (p) => p)));
});

test('a peer that exits makes the next collective fail with an error, not a hang', async () => {
  const port = await freePort();
  const [r0, r1] = await Promise.all([rank('peer-exit', 0, port), rank('peer-exit', 1, port)]);
  assert.equal(r1.code, 0);
  assert.equal(r0.code, 0, JSON.stringify(r0.out));
  assert.equal(typeof r0.out.error, 'string', JSON.stringify(r0.out));
  assert.match(r0.out.error, /^allReduce \(rank 0 of 2\) failed: /);
  // The closed connection is seen at once, not only when the 2 s timeout expires.
  assert.ok(r0.out.elapsedMs < 2000, `took ${r0.out.elapsedMs} ms`);
});

test('a peer that stays alive but skips the collective: the timeout (2 s) becomes an error', async () => {
  const port = await freePort();
  const [r0] = await Promise.all([rank('peer-stall', 0, port), rank('peer-stall', 1, port)]);
  assert.equal(r0.code, 0, JSON.stringify(r0.out));
  assert.match(r0.out.error, /^allReduce \(rank 0 of 2\) failed: .*Timed out/i);
  assert.ok(r0.out.elapsedMs >= 1900, `gave up after ${r0.out.elapsedMs} ms, before its 2 s timeout`);
});

test('a master nobody serves times out with an error naming the store', async () => {
  const port = await freePort();
  const t = setInterval(() => {}, 50);  // the event loop is free while the rendezvous waits
  await assert.rejects(
    torch.distributed.initProcessGroup({ rank: 1, worldSize: 2, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 1000 }),
    (e: Error) => {
      assert.match(e.message, new RegExp(`^initProcessGroup \\(rank 1 of 2, store 127\\.0\\.0\\.1:${port}, timeout 1000 ms\\): `));
      assert.match(e.message, /time(d)? ?out/i);
      return true;
    });
  clearInterval(t);
});

test('a rank whose MASTER_PORT belongs to another program (silent, or writing garbage) fails within --dist-timeout, naming the address', async () => {
  // Old: TCPStore's client waited forever for a reply (and process exit waited for its thread).
  const sockets: import('node:net').Socket[] = [];
  const servers = ['silent', 'garbage'].map((kind) => createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    if (kind === 'garbage') sock.write(Buffer.alloc(64 * 1024, 0xab));
  }));
  const ports = await Promise.all(servers.map((s) => new Promise<number>((res) => s.listen(0, '127.0.0.1', () => res((s.address() as { port: number }).port)))));
  const rank1 = (port: number) => new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) => {
    const t0 = Date.now();
    const env = { ...process.env, WORLD_SIZE: '2', RANK: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), OMP_NUM_THREADS: '1' };
    const child = spawnCli(['train', '--out', join(tmp, `foreign-${port}`), '--dist-timeout', '2', '--progress', 'none'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => { clearTimeout(watchdog); resolve({ code, stderr, ms: Date.now() - t0 }); });
  });
  try {
    for (const [i, r] of (await Promise.all(ports.map(rank1))).entries()) {
      assert.equal(r.code, 1, `${['silent', 'garbage'][i]} server: exit code ${r.code} after ${r.ms} ms (killed by the watchdog?): ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`csgnet: initProcessGroup \\(rank 1 of 2, store 127\\.0\\.0\\.1:${ports[i]}, timeout 2000 ms\\): `));
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    }
  } finally {
    for (const s of servers) s.close();
    for (const sock of sockets) sock.destroy();
  }
});

test('rank 0 whose peers never come times out with an error', async () => {
  await assert.rejects(
    torch.distributed.initProcessGroup({ rank: 0, worldSize: 2, masterPort: await freePort(), timeoutMs: 1000 }),
    /^Error: initProcessGroup \(rank 0 of 2, store 127\.0\.0\.1:\d+, timeout 1000 ms\): .*time(d)? ?out/i);
});

test('bad options and unavailable backends are clear errors', async () => {
  // @ts-expect-error 'nccl' is no Backend; a JavaScript caller still gets the error
  await assert.rejects(torch.distributed.initProcessGroup({ backend: 'nccl', rank: 0, worldSize: 1 }),
    /backend 'nccl' is not in this build .*available: gloo/);
  await assert.rejects(torch.distributed.initProcessGroup({ rank: 2, worldSize: 2 }), /rank must be an integer in \[0, 1\], got 2/);
  await assert.rejects(torch.distributed.initProcessGroup({ rank: 0, worldSize: 0 }), /worldSize must be an integer/);
  await assert.rejects(torch.distributed.initProcessGroup({ rank: 0, worldSize: 1, masterPort: 70000 }), /masterPort must be an integer in \[1, 65535\]/);
});

test('a group of one: collectives are identities, and a destroyed group refuses work', async () => {
  const pg = await torch.distributed.initProcessGroup({ rank: 0, worldSize: 1, masterPort: await freePort(), timeoutMs: 5000 });
  const t = torch.tensor([1, 2, 3], { dtype: 'float32' });
  await pg.allReduce(t);
  assert.deepEqual(t.tolist(), [1, 2, 3]);
  const [g] = await pg.allGather(t);
  assert.deepEqual(g.tolist(), [1, 2, 3]);
  await assert.rejects(pg.broadcast(t, 1), /src must be a rank in \[0, 0\], got 1/);
  // Many collectives, concurrently in flight: no native tensor is left behind.
  const live = torch.liveTensors();
  for (let i = 0; i < 20; i++) {
    const outs = await Promise.all(Array.from({ length: 10 }, () => pg.allGather(t)));
    await Promise.all(Array.from({ length: 10 }, () => pg.allReduce(t)));
    for (const [x] of outs) x.dispose();
  }
  assert.equal(torch.liveTensors(), live);
  assert.deepEqual(t.tolist(), [1, 2, 3]);
  await pg.destroy();
  await pg.destroy();
  await assert.rejects(pg.allReduce(t), /allReduce: process group was destroyed/);
  t.dispose(); g.dispose();
});
