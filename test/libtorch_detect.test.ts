// native/libtorch.cjs: which libtorch folder LIBTORCH names and the flags the addon builds with, on
// synthetic folders laid out as a LibTorch archive, a PyTorch wheel's torch/ (and the site-packages
// folder above it), a system prefix; CUDA and pre-C++11-ABI builds; the errors for wrong folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

interface Libtorch { kind: string; root: string; include: string; libDir: string; version: string; cuda: boolean; cxx11Abi: boolean }
const { detect, cflags, libs } = createRequire(import.meta.url)(join(packageRoot(), 'native', 'libtorch.cjs')) as {
  detect(env: Record<string, string | undefined>): Libtorch; cflags(t: Libtorch): string[]; libs(t: Libtorch): string[];
};

const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

/** A folder with libtorch's headers (version.h of `version`) under include/ and libraries under libDir. */
function fakeLibtorch(root: string, o: { version?: string; libDir?: string; cuda?: boolean; oldAbi?: boolean; extra?: string[] } = {}) {
  const inc = join(root, 'include', 'torch', 'csrc', 'api', 'include', 'torch');
  mkdirSync(inc, { recursive: true });
  writeFileSync(join(inc, 'version.h'), `#pragma once\n#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION \\\n  "${o.version ?? '2.6.0'}"\n`);
  const lib = join(root, o.libDir ?? 'lib');
  mkdirSync(lib, { recursive: true });
  // c10's mangled names carry std::__cxx11 exactly when it was built with the C++11 string ABI.
  writeFileSync(join(lib, 'libc10.so'), o.oldAbi ? '_ZN3c105ErrorC1ESsNSt3basic_stringE' : '_ZN3c105ErrorC1ENSt7__cxx1112basic_stringE');
  for (const l of ['libtorch.so', 'libtorch_cpu.so.2.6', ...(o.cuda ? ['libtorch_cuda.so'] : [])]) writeFileSync(join(lib, l), '');
  for (const f of o.extra ?? []) { mkdirSync(join(root, f, '..'), { recursive: true }); writeFileSync(join(root, f), ''); }
}

test('LIBTORCH layouts: LibTorch archive, PyTorch wheel (torch/ or site-packages), system prefix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-libtorch-'));
  try {
    const archive = join(dir, 'libtorch');
    fakeLibtorch(archive, { version: '2.11.0', extra: ['share/cmake/Torch/TorchConfig.cmake'] });
    const a = detect({ LIBTORCH: archive });
    assert.deepEqual({ kind: a.kind, version: a.version, include: a.include, libDir: a.libDir, cuda: a.cuda, abi: a.cxx11Abi },
      { kind: 'libtorch-archive', version: '2.11.0', include: join(archive, 'include'), libDir: join(archive, 'lib'), cuda: false, abi: true });
    assert.deepEqual(cflags(a), [`-I${join(archive, 'include')}`, `-I${join(archive, 'include', 'torch/csrc/api/include')}`]);
    assert.deepEqual(libs(a), [`-L${join(archive, 'lib')}`, `-Wl,-rpath,${join(archive, 'lib')}`, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10', '-Wl,--as-needed']);

    const site = join(dir, 'site-packages');
    fakeLibtorch(join(site, 'torch'), { cuda: true, oldAbi: true, extra: ['__init__.py'] });
    for (const given of [join(site, 'torch'), site]) {
      const w = detect({ LIBTORCH: given });
      assert.equal(w.kind, 'pytorch-wheel', given);
      assert.equal(w.root, join(site, 'torch'));
      assert.equal(w.cuda, true);
      assert.equal(w.cxx11Abi, false);
      assert.ok(cflags(w).includes('-D_GLIBCXX_USE_CXX11_ABI=0'), 'pre-C++11 ABI wheels build with the old string ABI');
      assert.ok(libs(w).includes('-ltorch_cuda'), 'CUDA builds link libtorch_cuda (its kernels register on load)');
    }

    const prefix = join(dir, 'usr');
    fakeLibtorch(prefix, { libDir: `lib/${MULTIARCH}` });
    const p = detect({ LIBTORCH: prefix });
    assert.equal(p.kind, 'system-prefix');
    assert.equal(p.libDir, join(prefix, 'lib', MULTIARCH));

    const bare = join(dir, 'bare');
    fakeLibtorch(bare);
    assert.equal(detect({ LIBTORCH: bare }).kind, 'libtorch-folder');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LIBTORCH errors name the variable and what is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csgnet-libtorch-'));
  try {
    assert.throws(() => detect({ LIBTORCH: join(dir, 'nope') }), /LIBTORCH=.*nope: no such folder/);
    assert.throws(() => detect({ LIBTORCH: dir }), /LIBTORCH=.*: not a libtorch folder \(no include\/torch\/csrc\/api\/include\/torch\/version\.h\)/);
    const headersOnly = join(dir, 'headers');
    fakeLibtorch(headersOnly);
    rmSync(join(headersOnly, 'lib'), { recursive: true });
    assert.throws(() => detect({ LIBTORCH: headersOnly }), /libtorch_cpu\.so not found in .*headers\/lib/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without LIBTORCH: Debian\'s system paths, or a message saying to install libtorch-dev', () => {
  let t: Libtorch | undefined;
  try { t = detect({}); } catch (e) {
    assert.match((e as Error).message, /apt-get install -y libtorch-dev/);
    return;
  }
  assert.equal(t.kind, 'debian');
  assert.equal(t.include, '/usr/include');
  assert.match(t.version, /^\d+\.\d+\.\d+/);
  assert.ok(!libs(t).some((f) => f.startsWith('-L')), 'Debian\'s libraries are on the default search path');
});
