// What csgnet runs on: the libtorch version, the BLAS and oneDNN libraries actually loaded into this
// process, the thread counts and CUDA. `csgnet info` prints it; bug reports should include it.
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { native } from './native.js';

/** Which BLAS implementation libtorch's matrix products go to. */
export type BlasKind = 'openblas' | 'reference' | 'mkl' | 'blis' | 'atlas' | 'other' | 'none';
export const BLAS_KINDS: readonly BlasKind[] = ['openblas', 'reference', 'mkl', 'blis', 'atlas', 'other', 'none'];

export interface TorchInfo {
  /** libtorch's version (the headers the addon was built against; TORCH_VERSION). */
  libtorch_version: string;
  /** The libtorch_cpu library mapped into this process. */
  libtorch_library: string | null;
  /** What the addon was built against (native/libtorch.cjs at install: layout kind and folder); null if unknown. */
  libtorch_build: { kind: string; root: string; version: string; cuda: boolean } | null;
  blas: BlasKind;
  /** The BLAS library mapped into this process (libblas.so.3 after Debian's alternatives and LD_LIBRARY_PATH). */
  blas_library: string | null;
  /** BLAS_INFO of libtorch's build configuration (Debian: 'generic', i.e. whatever libblas.so.3 is). */
  blas_build: string | null;
  /** oneDNN (MKL-DNN) version from the build configuration, e.g. '2.6.3'. */
  onednn_version: string | null;
  onednn_library: string | null;
  openmp: string | null;
  cpu_capability: string | null;
  parallel_backend: string | null;
  intra_op_threads: number;
  inter_op_threads: number;
  omp_num_threads: string | null;
  cuda_available: boolean;
  /** Things worth fixing, one sentence each (the CLI prints them on stderr). */
  warnings: string[];
  /** at::show_config(), verbatim. */
  build_config: string;
}

/** The files mapped into this process (from /proc/self/maps; empty where there is none). */
export function mappedFiles(maps?: string): string[] {
  let text = maps;
  if (text === undefined) {
    try { text = readFileSync('/proc/self/maps', 'utf8'); } catch { return []; }
  }
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('/');
    if (i >= 0 && /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+\//.test(line)) out.add(line.slice(i).replace(/ \(deleted\)$/, ''));
  }
  return [...out];
}

function kindOfPath(path: string): BlasKind {
  const p = path.toLowerCase();
  if (p.includes('openblas')) return 'openblas';
  if (p.includes('mkl')) return 'mkl';
  if (p.includes('blis')) return 'blis';
  if (p.includes('atlas')) return 'atlas';
  // Debian's reference BLAS (libblas3): /usr/lib/<triplet>/blas/libblas.so.3
  if (basename(dirname(p)) === 'blas') return 'reference';
  return 'other';
}

/** The BLAS behind libtorch, from the list of mapped files: the libblas.so.3 that got loaded decides
 *  (its symbols come first even when another BLAS is mapped as LAPACK's dependency, as happens with
 *  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas); otherwise an implementation library by name. */
export function blasFromMappedFiles(files: string[]): { blas: BlasKind; library: string | null } {
  const real = (f: string) => { try { return realpathSync(f); } catch { return f; } };
  const generic = files.find((f) => /^libblas\.so(\.|$)/.test(basename(f)));
  if (generic) return { blas: kindOfPath(real(generic)), library: generic };
  const impl = files.find((f) => /^lib(openblas|mkl_|blis|satlas|tatlas|f77blas)/.test(basename(f)));
  if (impl) return { blas: kindOfPath(impl), library: impl };
  return { blas: 'none', library: null };
}

/** build/Release/libtorch.json, written by the install step (native/build.cjs). */
function buildRecord(): TorchInfo['libtorch_build'] {
  try {
    const r = JSON.parse(readFileSync(join(packageRoot(), 'build', 'Release', 'libtorch.json'), 'utf8'));
    return { kind: String(r.kind), root: String(r.root), version: String(r.version), cuda: !!r.cuda };
  } catch { return null; }
}

const field = (config: string, re: RegExp): string | null => re.exec(config)?.[1]?.trim() ?? null;

/** Gathers TorchInfo (loads libtorch if it is not loaded yet). */
export function torchInfo(): TorchInfo {
  if (typeof native.showConfig !== 'function') {
    throw new Error('the native addon (build/Release/csgnet_native.node) is older than this csgnet and lacks showConfig: ' +
      'rebuild it with `bash scripts/setup.sh` (or `npx node-gyp rebuild`)');
  }
  const config = native.showConfig();
  const parallel = native.parallelInfo();
  const files = mappedFiles();
  const blasBuild = field(config, /BLAS_INFO=([^,\s]+)/);
  let { blas, library } = blasFromMappedFiles(files);
  if (blas === 'none' && blasBuild && /mkl/i.test(blasBuild)) blas = 'mkl'; // linked statically (pytorch.org LibTorch)
  const warnings: string[] = [];
  if (blas === 'reference') {
    warnings.push(`the reference BLAS (${library}) is in use: matrix products (matmul, Linear layers) are many times slower, and float32 results ` +
      'differ from OpenBLAS\'s in the last bits. Install OpenBLAS (apt-get install libopenblas0-pthread) and make sure ' +
      'LD_LIBRARY_PATH does not point at /usr/lib/x86_64-linux-gnu/blas.');
  }
  return {
    libtorch_version: native.version(),
    libtorch_library: files.find((f) => /^libtorch_cpu\.so/.test(basename(f))) ?? files.find((f) => /^libtorch\.so/.test(basename(f))) ?? null,
    libtorch_build: buildRecord(),
    blas,
    blas_library: library,
    blas_build: blasBuild,
    onednn_version: field(config, /(?:MKL-DNN|oneDNN)\s+v?([\d.]+)/),
    onednn_library: files.find((f) => /^lib(dnnl|mkldnn)\.so/.test(basename(f))) ?? null,
    openmp: field(config, /- OpenMP ([^\n]+)/),
    cpu_capability: field(config, /CPU capability usage: ([^\n]+)/),
    parallel_backend: field(parallel, /ATen parallel backend: ([^\n]+)/),
    intra_op_threads: native.getNumThreads(),
    inter_op_threads: native.getNumInteropThreads(),
    omp_num_threads: process.env.OMP_NUM_THREADS ?? null,
    cuda_available: native.cudaAvailable(),
    warnings,
    build_config: config,
  };
}
