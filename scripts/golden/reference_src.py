"""The reference implementations' source, for the goldens the reference code itself produces.

A folder the user names (the script's first argument, or an environment variable) is used as it is;
otherwise the package is extracted from the mirror's git history into a temporary folder, removed at exit.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile


def reference_source(package, mirror, env, commit='HEAD'):
    """(folder holding `package`, the commit it is from)."""
    given = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(env)
    if given:
        r = subprocess.run(['git', '-C', given, 'rev-parse', 'HEAD'], capture_output=True, text=True)
        return given, (r.stdout.strip() if r.returncode == 0 else f'unknown (folder {given})')
    sha = subprocess.run(['git', '--git-dir', mirror, 'rev-parse', commit], capture_output=True, text=True, check=True).stdout.strip()
    d = tempfile.mkdtemp(prefix=package + '-')
    atexit.register(shutil.rmtree, d, True)
    # only the package: some blobs outside it (e.g. captum's docs/) are absent from the mirrors
    archive = subprocess.run(['git', '--git-dir', mirror, 'archive', sha, package], capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', d], input=archive, check=True)
    return d, sha
