"""The package installs with pip from Debian's packages alone, and carries
the repository's release version."""

import shutil
import subprocess
import sys

import pytest

from conftest import REPO


def git(*args):
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def test_pip_install_without_pypi(tmp_path):
    if shutil.which("git") is None or subprocess.run(["git", "rev-parse"], cwd=REPO, capture_output=True).returncode:
        pytest.skip("not a git checkout: the version would be the fallback")
    venv = tmp_path / "venv"
    # The venv sees Debian's packages; Debian's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-build-isolation",
                        "--no-index", str(REPO / "clients" / "python")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    out = subprocess.run([str(py), "-c", "import subsetd; print(subsetd.__version__); print(subsetd.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    version, where = out
    assert where.startswith(str(venv))
    # The release tag when HEAD is one, else a development version naming the commit.
    exact = subprocess.run(["git", "describe", "--tags", "--exact-match", "--match", "v[0-9]*"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    if exact and not dirty:
        assert version == exact[1:]
    else:
        assert ".dev" in version and "+g" + git("rev-parse", "--short=7", "HEAD") in version, version
