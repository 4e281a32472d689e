"""The built browser viewer travels with the package: setup.py's build_py copies viewer-web/dist
into twin/viewer_dist, the sdist carries viewer-web/dist, and `twin serve` run from the built
package serves that copy and says where its viewer comes from (or how to build one).

The builds run setup.py in a scratch project whose `twin` is a link to this checkout's package and
whose viewer-web/dist is a small stand-in, so no C++ is compiled and no npm build is needed.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest

from twin.cli.serve import viewer_origin
from twin.serve.http_files import PACKAGED_VIEWER, find_viewer

ROOT = Path(__file__).resolve().parents[1]
INDEX = "<!doctype html><title>stand-in viewer</title>"
SCRIPT = "console.log('stand-in viewer')"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project's build files, with this checkout's twin package linked in."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        (folder / name).write_bytes((ROOT / name).read_bytes())
    (folder / "twin").symlink_to(ROOT / "twin", target_is_directory=True)
    return folder


def add_viewer_build(project: Path) -> None:
    dist = project / "viewer-web" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app.js").write_text(SCRIPT)


def setup_py(project: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "setup.py", "-q", *args], cwd=project, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def run_from(build_lib: Path, code: str) -> str:
    """Runs Python code against the built package (not this checkout's) and returns what it printed."""
    env = {**os.environ, "PYTHONPATH": str(build_lib)}
    result = subprocess.run([sys.executable, "-c", code], cwd=build_lib, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_find_viewer_prefers_the_packaged_copy_then_the_source_tree(tmp_path):
    packaged, source = tmp_path / "packaged", tmp_path / "source"
    assert find_viewer(packaged, source) is None
    source.mkdir()
    (source / "index.html").write_text(INDEX)
    assert find_viewer(packaged, source) == source
    packaged.mkdir()
    assert find_viewer(packaged, source) == source, "a folder without index.html is not a viewer"
    (packaged / "index.html").write_text(INDEX)
    assert find_viewer(packaged, source) == packaged


def test_serve_says_where_the_viewer_comes_from_or_how_to_build_it(tmp_path):
    assert viewer_origin(PACKAGED_VIEWER).startswith("viewer: installed with twin")
    assert viewer_origin(tmp_path).startswith("viewer: built in the source tree")
    missing = viewer_origin(None)
    assert "not built" in missing and "npm run build" in missing and "pip install ." in missing


def test_build_py_copies_the_built_viewer_into_the_package(project):
    add_viewer_build(project)
    setup_py(project, "build_py", "-d", "build_lib")
    packaged = project / "build_lib" / "twin" / "viewer_dist"
    assert (packaged / "index.html").read_text() == INDEX
    assert (packaged / "assets" / "app.js").read_text() == SCRIPT
    found = run_from(project / "build_lib", "import twin.serve.http_files as h; print(h.__file__); print(h.find_viewer())")
    module, viewer = found.split()
    assert Path(module) == project / "build_lib" / "twin" / "serve" / "http_files.py", "the built package was imported"
    assert Path(viewer) == packaged


def test_build_py_without_a_built_viewer_warns_and_leaves_no_stale_copy(project):
    add_viewer_build(project)
    setup_py(project, "build_py", "-d", "build_lib")
    for file in sorted((project / "viewer-web" / "dist").rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    result = setup_py(project, "build_py", "-d", "build_lib")
    assert "viewer-web/dist/index.html is missing" in result.stderr and "npm run build" in result.stderr
    assert not (project / "build_lib" / "twin" / "viewer_dist").exists(), "the earlier build's copy is gone"
    assert (project / "build_lib" / "twin" / "serve" / "server.py").is_file(), "the package itself is still built"
    assert run_from(project / "build_lib", "import twin.serve.http_files as h; print(h.find_viewer())").strip() == "None"


def test_sdist_carries_the_built_viewer_and_the_core_headers(project):
    add_viewer_build(project)
    setup_py(project, "sdist", "-d", "sdist")
    (archive,) = (project / "sdist").glob("twin-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
        assert tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("viewer-web/dist/index.html"))).read().decode() == INDEX
    assert {"viewer-web/dist/index.html", "viewer-web/dist/assets/app.js", "setup.py", "MANIFEST.in"} <= names
    headers = {f"twin/native/{p.name}" for p in (ROOT / "twin" / "native").glob("*.hpp")}
    assert headers and headers <= names, f"missing headers: {sorted(headers - names)}"


def test_twin_serve_from_the_built_package_serves_its_viewer(project, tmp_path, write_twin_folder):
    add_viewer_build(project)
    setup_py(project, "build_py", "-d", "build_lib")
    build_lib = project / "build_lib"
    folder = write_twin_folder(tmp_path / "shop")
    env = {**os.environ, "PYTHONPATH": str(build_lib)}
    server = subprocess.Popen([sys.executable, "-m", "twin", "serve", str(folder), "--port", "0", "--db",
                               str(tmp_path / "twin.db"), "--no-admin-link"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in server.stdout:
            lines.append(line)
            if line.startswith("stop with Ctrl-C"):
                break
        said = "".join(lines)
        url = re.search(r"^open (\S+)", said, re.M)
        assert url, f"twin serve did not start:\n{said}"
        assert f"viewer: installed with twin ({build_lib / 'twin' / 'viewer_dist'})" in said
        with urllib.request.urlopen(url[1], timeout=10) as response:
            assert response.read().decode() == INDEX
        with urllib.request.urlopen(url[1] + "assets/app.js", timeout=10) as response:
            assert response.read().decode() == SCRIPT
            assert response.headers["Content-Type"] == "text/javascript"
    finally:
        server.terminate()
        server.wait(timeout=30)
