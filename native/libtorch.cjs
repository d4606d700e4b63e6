// Finds the libtorch the addon builds against and prints the compiler and linker flags for it
// (binding.gyp runs it). LIBTORCH may name, detected by what the folder holds:
//   - a LibTorch archive from the PyTorch project: include/, lib/, share/cmake/Torch/;
//   - a PyTorch wheel's torch/ folder (torch/include, torch/lib), or the site-packages folder above it;
//   - a system prefix laid out as Debian's libtorch-dev (PREFIX/include/torch, PREFIX/lib/<multiarch>/);
// unset, Debian's system paths (/usr/include, the default library path).
// Usage: node native/libtorch.cjs cflags|libs|describe [--json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const VERSION_H = 'torch/csrc/api/include/torch/version.h';
const MULTIARCH = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ppc64: 'powerpc64le-linux-gnu', riscv64: 'riscv64-linux-gnu', s390x: 's390x-linux-gnu' };

const has = (...p) => fs.existsSync(path.join(...p));

function findLib(dir, name) {
  if (!dir || !fs.existsSync(dir)) return null;
  const exact = path.join(dir, `lib${name}.so`);
  if (fs.existsSync(exact)) return exact;
  const versioned = fs.readdirSync(dir).filter((f) => f.startsWith(`lib${name}.so.`)).sort();
  return versioned.length ? path.join(dir, versioned[0]) : null;
}

/** The folder layout LIBTORCH (or the system) has; throws naming what is missing. */
function detect(env = process.env) {
  const given = env.LIBTORCH ? path.resolve(env.LIBTORCH) : '';
  let kind, root, include, libDir;
  if (!given) {
    kind = 'debian';
    root = '/usr';
    include = '/usr/include';
    libDir = path.join('/usr/lib', MULTIARCH[process.arch] || `${process.arch}-linux-gnu`);
    if (!has(include, VERSION_H)) {
      throw new Error(`libtorch headers not found in /usr/include (no ${VERSION_H}): install Debian's libtorch-dev (apt-get install -y libtorch-dev) or set LIBTORCH to a LibTorch folder`);
    }
  } else {
    if (!fs.existsSync(given)) throw new Error(`LIBTORCH=${env.LIBTORCH}: no such folder`);
    root = given;
    if (!has(root, 'include', VERSION_H) && has(root, 'torch', 'include', VERSION_H)) root = path.join(root, 'torch');
    include = path.join(root, 'include');
    if (!has(include, VERSION_H)) {
      throw new Error(`LIBTORCH=${env.LIBTORCH}: not a libtorch folder (no include/${VERSION_H}); expected a LibTorch archive (include/, lib/, share/cmake/), a PyTorch wheel's torch/ folder or a prefix such as /usr`);
    }
    const multiarch = path.join(root, 'lib', MULTIARCH[process.arch] || `${process.arch}-linux-gnu`);
    if (findLib(path.join(root, 'lib'), 'torch_cpu')) {
      libDir = path.join(root, 'lib');
      kind = has(root, 'share', 'cmake', 'Torch') ? 'libtorch-archive' : has(root, '__init__.py') || has(root, 'version.py') ? 'pytorch-wheel' : 'libtorch-folder';
    } else if (findLib(multiarch, 'torch_cpu')) {
      libDir = multiarch;
      kind = 'system-prefix';
    } else {
      throw new Error(`LIBTORCH=${env.LIBTORCH}: libtorch_cpu.so not found in ${path.join(root, 'lib')} or ${multiarch}`);
    }
  }
  const c10 = findLib(libDir, 'c10');
  return {
    kind, root, include, libDir,
    version: readVersion(path.join(include, VERSION_H)),
    cuda: !!findLib(libDir, 'torch_cuda'),
    cxx11Abi: c10 ? usesCxx11Abi(c10) : true,
  };
}

function readVersion(file) {
  const m = /#define\s+TORCH_VERSION\s+\\?\s*"([^"]+)"/.exec(fs.readFileSync(file, 'utf8'));
  return m ? m[1] : 'unknown';
}

/** Whether libc10 was built with the C++11 std::string ABI (PyTorch's pre-2.7 wheels were not). */
function usesCxx11Abi(lib) {
  // c10's API passes std::string everywhere, so its mangled names carry __cxx11 exactly when it does.
  return fs.readFileSync(lib).includes('__cxx11');
}

function cflags(t) {
  const out = [`-I${t.include}`, `-I${path.join(t.include, 'torch/csrc/api/include')}`];
  if (!t.cxx11Abi) out.push('-D_GLIBCXX_USE_CXX11_ABI=0');
  return out;
}

function libs(t) {
  const out = [];
  // Debian's libraries are on the default search path; elsewhere link by folder and find it at run time.
  if (t.kind !== 'debian') out.push(`-L${t.libDir}`, `-Wl,-rpath,${t.libDir}`);
  // --no-as-needed: nothing in the addon names a CUDA symbol, but loading libtorch_cuda registers the kernels.
  out.push('-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10');
  if (t.cuda) out.push('-ltorch_cuda');
  out.push('-Wl,--as-needed');
  return out;
}

module.exports = { detect, cflags, libs };

if (require.main === module) {
  const mode = process.argv[2];
  try {
    const t = detect();
    if (mode === 'cflags') console.log(cflags(t).join(' '));
    else if (mode === 'libs') console.log(libs(t).join(' '));
    else if (mode === 'describe') {
      if (process.argv.includes('--json')) console.log(JSON.stringify(t));
      else console.log(`libtorch ${t.version} (${t.kind}) headers ${t.include}, libraries ${t.libDir}${t.cuda ? ', CUDA' : ''}${t.cxx11Abi ? '' : ', pre-C++11 string ABI'}`);
    } else {
      console.error('usage: node native/libtorch.cjs cflags|libs|describe [--json]');
      process.exit(2);
    }
  } catch (e) {
    // gyp shows a failed command's stderr; say it plainly and fail the build.
    console.error(`csgnet: ${e.message}`);
    process.exit(1);
  }
}
