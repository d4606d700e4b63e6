// csgnet installed as a dependency, as a user's project gets it: `npm pack`, then `npm install` of the
// tarball into an empty project with no environment variables besides PATH and HOME. npm fetches the
// packages from the registry with install scripts off; the scripts (csgnet's addon build among them)
// then run with `npm rebuild` inside a network namespace with no network at all, so any script that
// tries to download something (node-gyp's headers, onnxruntime-node's CUDA libraries) fails the test.
// Then the `csgnet` bin runs --version, info and a one-epoch train, and a TypeScript file importing
// 'csgnet' type-checks against the shipped declarations and runs.
//
// It builds the addon once more (about 2 minutes on 2 cores), so it runs where CI is set or with
// CSGNET_TEST_PACKAGE=1, and needs root for `unshare --net`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

const root = packageRoot();
const enabled = !!process.env.CI || process.env.CSGNET_TEST_PACKAGE === '1';
const canUnshare = () => spawnSync('unshare', ['--net', 'true']).status === 0;
const skip = !enabled ? 'set CI or CSGNET_TEST_PACKAGE=1 (builds the addon again, about 2 minutes)'
  : !canUnshare() ? 'unshare --net is refused here (needs root and network namespaces)' : false;

/** A user's environment: nothing but PATH and HOME (HOME holds npm's registry settings). */
const userEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

function run(cmd: string, args: string[], o: SpawnSyncOptions & { what: string }) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: userEnv, maxBuffer: 64 << 20, ...o });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `${o.what} failed (exit ${r.status}, signal ${r.signal}):\n${out.slice(-4000)}`);
  return out;
}

test('the packed tarball installs into an empty project and runs, with no download besides the npm registry', { skip, timeout: 20 * 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-pack-'));
  try {
    // The tarball: the library, its sources and the addon's sources; no tests, goldens or benchmarks.
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, what: 'npm pack', stdio: ['ignore', 'pipe', 'ignore'] }))[0];
    const paths: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const must of ['package.json', 'binding.gyp', 'native/build.cjs', 'native/libtorch.cjs', 'native/src/addon.cc', 'dist/src/index.js',
      'dist/src/index.d.ts', 'dist/src/cli/main.js', 'src/app/explore/public/index.html', 'src/app/dashboard/public/app.js']) {
      assert.ok(paths.includes(must), `tarball lacks ${must}`);
    }
    const stray = paths.filter((p) => /^(test|dist\/test|bench|dist\/bench|scripts|runs|build)\//.test(p));
    assert.deepEqual(stray, [], 'tests, benchmarks, scripts and build output stay out of the tarball');
    assert.ok(packed.unpackedSize < 8 << 20, `unpacked size ${packed.unpackedSize} bytes`);

    const app = join(dir, 'app');
    run('mkdir', ['-p', app], { what: 'mkdir' });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, packed.filename)], { cwd: app, what: 'npm install (registry only, scripts off)' });
    const installed = (p: string) => existsSync(join(app, 'node_modules', p));
    assert.ok(!installed('onnxruntime-node'), 'onnxruntime-node (benchmarks and tests only) is not installed for users');
    assert.ok(!installed('onnxruntime-web'), 'onnxruntime-web (the explorer) is an optional peer, not installed by default');
    // Every install script, with no network: a download attempt fails here.
    run('unshare', ['--net', 'npm', 'rebuild', '--foreground-scripts'], { cwd: app, what: 'npm rebuild without network' });
    assert.ok(installed('csgnet/build/Release/csgnet_native.node'), 'the addon was built');

    const bin = join(app, 'node_modules', '.bin', 'csgnet');
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    assert.equal(run(bin, ['--version'], { cwd: app, what: 'csgnet --version' }).trim(), version);
    assert.match(run(bin, ['info'], { cwd: app, what: 'csgnet info' }), /^libtorch\s+\d+\.\d+\.\d+ \(/m);
    const trained = run(bin, ['train', '--dataset', 'fashion-mnist', '--model', 'lenet', '--epochs', '1', '--allow-no-csg', '--limit', '256', '--threads', '1', '--out', 'run'],
      { cwd: app, what: 'csgnet train' });
    assert.match(trained, /val_acc \d\.\d+/);
    assert.ok(existsSync(join(app, 'run', 'checkpoints', 'last.safetensors')), 'train wrote its checkpoint');
    // A missing optional package is named with the command that needs it.
    const explore = spawnSync(bin, ['export', '--run', 'run', '--html', 'site'], { cwd: app, env: userEnv, encoding: 'utf8' });
    assert.notEqual(explore.status, 0);
    assert.match(explore.stderr, /needs the npm package 'onnxruntime-web'.*npm install onnxruntime-web@/);

    // The library from TypeScript, type-checked against the shipped declarations (skipLibCheck off).
    writeFileSync(join(app, 'index.ts'), [
      "import { torch, createModel } from 'csgnet';",
      "import { mis } from 'csgnet/metrics';",
      "const model = createModel('resnet20', { inChannels: 1, numClasses: 10 });",
      'const shape: number[] = torch.tidy(() => model.forward(torch.randn([2, 1, 28, 28])).shape);',
      'console.log(JSON.stringify({ shape, mis: typeof mis }));',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, outDir: 'out', skipLibCheck: false } }));
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: app, what: 'tsc in the user project' });
    assert.deepEqual(JSON.parse(run(process.execPath, ['out/index.js'], { cwd: app, what: 'node out/index.js' })), { shape: [2, 10], mis: 'function' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
