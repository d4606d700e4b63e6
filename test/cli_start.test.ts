// The CLI's start: which commands load libtorch (structurally: a --require hook records every native
// addon the process opens), `csgnet info` against what is really mapped into the process, the thread
// count default and --threads on every computing command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';
import { writeNpy } from '../src/io/npy.js';
import { miMatrix, mis } from '../src/metrics/mutual_info.js';
import { analysisKey } from '../src/app/analysis_key.js';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'csgnet-start-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const root = packageRoot();
const pkgVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

// Records the file of every process.dlopen (how Node loads .node addons, from require and import alike).
const tracer = join(tmp, 'trace-dlopen.cjs');
writeFileSync(tracer, `const fs = require('fs');
const orig = process.dlopen, loaded = [];
process.dlopen = function (m, file, ...rest) { loaded.push(String(file)); return orig.call(this, m, file, ...rest); };
process.on('exit', () => fs.writeFileSync(process.env.CSGNET_TEST_DLOPEN_LOG, JSON.stringify(loaded)));
`);

let traceN = 0;
function csgnet(args: string[], env: Record<string, string | undefined> = {}) {
  const log = join(tmp, `dlopen-${traceN++}.json`);
  const e: NodeJS.ProcessEnv = { ...process.env, CSGNET_TEST_DLOPEN_LOG: log };
  for (const [k, v] of Object.entries(env)) { if (v === undefined) delete e[k]; else e[k] = v; }
  const r = runCli(args, { env: e, nodeArgs: ['--require', tracer] });
  const addons: string[] = existsSync(log) ? JSON.parse(readFileSync(log, 'utf8')) : [];
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, addons };
}
const ok = (args: string[], env: Record<string, string | undefined> = {}) => {
  const r = csgnet(args, env);
  assert.equal(r.status, 0, `csgnet ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
};
const loadsTorch = (addons: string[]) => addons.some((f) => basename(f) === 'csgnet_native.node');

test('info loads libtorch (the tracer sees the addon)', () => {
  const r = ok(['info', '--json']);
  assert.ok(loadsTorch(r.addons), `addons opened: ${r.addons.join(', ')}`);
});

test('--help and --version load no native addon', () => {
  for (const args of [['--help'], ['train', '--help'], ['mis', '--help'], ['info', '--help']]) {
    const r = ok(args);
    assert.match(r.stdout, /Usage: csgnet/);
    assert.deepEqual(r.addons, [], `csgnet ${args.join(' ')} opened ${r.addons.join(', ')}`);
  }
  const v = ok(['--version']);
  assert.equal(v.stdout.trim(), pkgVersion);
  assert.deepEqual(v.addons, []);
});

test('mis loads no native addon and scores like the library', () => {
  const n = 600, k = 6, C = 3;
  const F = new Float32Array(n * k), y = new Int32Array(n);
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    y[i] = i % C;
    for (let j = 0; j < k; j++) F[i * k + j] = rnd() + (j === y[i] ? 0.5 : 0);
  }
  const f = join(tmp, 'F.npy'), l = join(tmp, 'L.npy');
  writeNpy(f, F, [n, k]);
  writeNpy(l, BigInt64Array.from(y, (v) => BigInt(v)), [n]);
  const r = ok(['mis', '--features', f, '--labels', l, '--threads', '1', '--json']);
  assert.deepEqual(r.addons, [], `mis opened ${r.addons.join(', ')}`);
  assert.equal(JSON.parse(r.stdout).mis, mis(miMatrix(F, n, k, y, C), C, k));
});

test('compare on analysed runs loads no native addon', () => {
  const runs: string[] = [];
  for (const [name, strategy, acc, density] of [['std', 'std', 0.91, null], ['csg', 'csg', 0.9, 0.1]] as const) {
    const dir = join(tmp, 'runs', name);
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    mkdirSync(join(dir, 'analysis'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: { model: 'resnet20', strategy },
      dataset: { name: 'fashion-mnist', classes: ['a', 'b'], channels: 1, height: 28, width: 28 } }));
    writeFileSync(join(dir, 'checkpoints', 'last.safetensors'), ''); // only its bytes matter here (the cache key)
    const key = analysisKey(dir, { split: 'test', checkpoint: 'last', limit: 0 });
    writeFileSync(join(dir, 'analysis', 'analysis.json'), JSON.stringify({ key, split: 'test', accuracy: acc, density, mis: 0.25,
      mean_specificity: 0.5, agreement: density === null ? null : 0.75, class_filter_accuracy: { mean_balanced: 0.6 } }));
    runs.push(dir);
  }
  const r = ok(['compare', ...runs, '--threads', '1']);
  assert.deepEqual(r.addons, [], `compare opened ${r.addons.join(', ')}`);
  assert.match(r.stdout, /0\.9100/);
  assert.match(r.stdout, /0\.1000/);
  assert.doesNotMatch(r.stderr, /analyzing/);
});

function mappedBlas(): string | undefined {
  const files = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.slice(l.indexOf('/'))).filter((p) => p.startsWith('/'));
  return files.find((p) => /^libblas\.so(\.|$)/.test(basename(p)));
}

test('info reports the libtorch version, the BLAS actually mapped and warns about the reference BLAS', async () => {
  const { BLAS_KINDS, blasFromMappedFiles } = await import('../src/torch/info.js');
  const i = JSON.parse(ok(['info', '--json']).stdout);
  // The version the addon was built against is the one of the library it runs on.
  assert.match(i.libtorch_version, /^\d+\.\d+\.\d+/);
  assert.equal(/TORCH_VERSION=([^,\s]+)/.exec(i.build_config)?.[1], i.libtorch_version);
  assert.ok(i.libtorch_library && existsSync(i.libtorch_library), `libtorch_library ${i.libtorch_library}`);
  const so = /libtorch_cpu\.so\.(\d+\.\d+)/.exec(basename(i.libtorch_library))?.[1];
  if (so) assert.ok(i.libtorch_version.startsWith(so + '.'), `${i.libtorch_version} vs ${i.libtorch_library}`);
  assert.ok(BLAS_KINDS.includes(i.blas), `blas ${i.blas}`);
  assert.equal(typeof i.cuda_available, 'boolean');
  assert.ok(i.intra_op_threads >= 1 && i.inter_op_threads >= 1);
  // This process has loaded the same addon (importing info.js), with the same environment: same BLAS.
  const mine = mappedBlas();
  assert.equal(i.blas_library, mine ?? null);
  if (mine) {
    const dir = dirname(realpathSync(mine));
    if (dir.includes('openblas')) assert.equal(i.blas, 'openblas');
    if (basename(dir) === 'blas') assert.equal(i.blas, 'reference');
  }
  const plain = csgnet(['info']);
  assert.equal(plain.status, 0);
  assert.match(plain.stdout, new RegExp(`libtorch\\s+${i.libtorch_version.replace(/\./g, '\\.')}`));
  assert.equal(/reference BLAS/.test(plain.stderr), i.blas === 'reference', plain.stderr);

  const refDir = '/usr/lib/x86_64-linux-gnu/blas';
  if (existsSync(join(refDir, 'libblas.so.3'))) {
    const r = ok(['info', '--json'], { LD_LIBRARY_PATH: refDir });
    const ri = JSON.parse(r.stdout);
    assert.equal(ri.blas, 'reference');
    assert.equal(dirname(ri.blas_library), refDir);
    assert.match(r.stderr, /warning: the reference BLAS .* is in use/);
  }
  // The decision rule on its own: libblas.so.3 decides, even when OpenBLAS is mapped for LAPACK.
  assert.deepEqual(blasFromMappedFiles(['/nonexistent/openblas-pthread/libblas.so.3']), { blas: 'openblas', library: '/nonexistent/openblas-pthread/libblas.so.3' });
  assert.equal(blasFromMappedFiles(['/nonexistent/openblas-pthread/libopenblasp-r0.3.21.so', '/nonexistent/blas/libblas.so.3.11.0']).blas, 'reference');
  assert.equal(blasFromMappedFiles(['/opt/intel/lib/libmkl_rt.so.2']).blas, 'mkl');
  assert.equal(blasFromMappedFiles(['/usr/lib/libc.so.6']).blas, 'none');
});

test('intra-op threads: every core by default, OMP_NUM_THREADS, --threads', () => {
  const threads = (args: string[], env: Record<string, string | undefined>) => JSON.parse(ok(['info', '--json', ...args], env).stdout).intra_op_threads;
  assert.equal(threads([], { OMP_NUM_THREADS: undefined }), availableParallelism());
  assert.equal(threads([], { OMP_NUM_THREADS: '1' }), 1);
  assert.equal(threads(['--threads', '2'], { OMP_NUM_THREADS: '1' }), 2);
});

test('every computing command takes --threads and refuses a bad value naming the flag', () => {
  const missing = join(tmp, 'no-such-run');
  // Each fails on something after --threads, which shows that --threads 1 itself was accepted.
  const commands: [string[], RegExp][] = [
    [['eval', '--run', missing], /is not a csgnet run folder/],
    [['features', '--run', missing, '--out', join(tmp, 'feat')], /is not a csgnet run folder/],
    [['gate', '--run', missing], /is not a csgnet run folder/],
    [['analyze', '--run', missing, '--out', join(tmp, 'an')], /is not a csgnet run folder/],
    [['compare', missing], /is not a csgnet run folder/],
    [['mis', '--features', join(tmp, 'none.npy'), '--labels', join(tmp, 'none.npy')], /none\.npy/],
    [['demo', '--out', join(tmp, 'demo'), '--epochs', '0'], /'--epochs <n>' argument '0' is invalid/],
    [['train', '--out', join(tmp, 'train'), '--epochs', '0'], /'--epochs <n>' argument '0' is invalid/],
    [['bench', '--steps', '0'], /'--steps <n>' argument '0' is invalid/],
  ];
  for (const [args, why] of commands) {
    const [cmd, ...rest] = args;
    const good = csgnet([cmd!, '--threads', '1', ...rest]);
    assert.equal(good.status, 1, `${args.join(' ')}: ${good.stderr}`);
    assert.match(good.stderr, why, `csgnet ${cmd} --threads 1 ...`);
    assert.doesNotMatch(good.stderr, /--threads/);
    const bad = csgnet([cmd!, '--threads', '-1', ...rest]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /option '--threads <n>' argument '-1' is invalid/, `csgnet ${cmd} --threads -1`);
  }
  assert.equal(JSON.parse(ok(['info', '--threads', '1', '--json']).stdout).intra_op_threads, 1);
  assert.match(csgnet(['info', '--threads', '-1']).stderr, /option '--threads <n>' argument '-1' is invalid/);
});
