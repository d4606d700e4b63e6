"""Build information stored in the metadata of every golden file, so that a golden can be traced to the
libtorch build, CPU path and BLAS that produced it (scripts/golden/*.py import it after torch)."""
import os
import platform
import sys

import torch


def loaded_blas():
    """The BLAS/LAPACK libraries mapped into this process, resolved (Debian switches libblas.so.3 through
    alternatives: .../blas/ is the reference BLAS, .../openblas-pthread/ OpenBLAS; MKL when linked)."""
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6:
                name = os.path.basename(parts[-1]).lower()
                if any(s in name for s in ('blas', 'lapack', 'mkl_', 'libmkl')):
                    libs.add(os.path.realpath(parts[-1]))
    return ' '.join(sorted(libs)) or 'none found in /proc/self/maps'


def build_info():
    """String-valued metadata: torch version, torch.__config__.show(), the BLAS in use, interpreter, and
    the versions of numpy, scipy and scikit-learn when the script uses them. Safetensors goldens keep it
    in their `__metadata__`, JSON goldens under a top-level `__metadata__` key."""
    info = {'torch': torch.__version__, 'torch_config': torch.__config__.show(), 'blas': loaded_blas(),
            'torch_threads': str(torch.get_num_threads()), 'python': platform.python_version(), 'machine': platform.machine()}
    for mod in ('numpy', 'scipy', 'sklearn'):
        if mod in sys.modules:
            info[mod] = sys.modules[mod].__version__
    return info
