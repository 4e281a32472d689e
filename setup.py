"""Builds the C++ registration core (twin/native/*.cpp) into the extension module twin._native,
and puts the built browser viewer (viewer-web/dist) into the package as twin/viewer_dist."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from pybind11.setup_helpers import Pybind11Extension, ParallelCompile, build_ext
from setuptools import setup
from setuptools.command.build_py import build_py

VIEWER_BUILD = os.path.join("viewer-web", "dist")
PACKAGED_VIEWER = os.path.join("twin", "viewer_dist")


def compiler_supports_openmp() -> bool:
    """Try a tiny OpenMP program: portable builds keep OpenMP only where the compiler has it."""
    cxx = os.environ.get("CXX", "c++")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp.cpp")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(){return omp_get_max_threads()>0?0:1;}\n")
        result = subprocess.run([cxx, "-fopenmp", src, "-o", os.path.join(tmp, "omp")],
                                capture_output=True)
        return result.returncode == 0


class build_py_with_viewer(build_py):
    """Copies the built viewer into the package, so that an installed `twin serve` has a viewer.

    The viewer is built by npm (`npm run build` in viewer-web/), not here: without it the package
    still installs, with a warning, and `twin serve` says how to build it."""

    def run(self):
        super().run()
        if self.editable_mode:  # an editable install serves viewer-web/dist where it is
            return
        target = os.path.join(self.build_lib, PACKAGED_VIEWER)
        shutil.rmtree(target, ignore_errors=True)  # nothing left over from an earlier build
        if os.path.isfile(os.path.join(VIEWER_BUILD, "index.html")):
            shutil.copytree(VIEWER_BUILD, target)
        else:  # shown by setup.py and `python -m build`, by pip with -v; `twin serve` says it again
            print(f"WARNING: {VIEWER_BUILD}/index.html is missing, so this twin package has no browser viewer "
                  "(`twin serve` will serve only the twins' files). Run `npm ci && npm run build` in viewer-web/ "
                  "(or scripts/setup.sh) before building or installing twin.", file=sys.stderr)

    def get_outputs(self, include_bytecode=True):
        target = os.path.join(self.build_lib, PACKAGED_VIEWER)
        copied = [os.path.join(root, name) for root, _, names in os.walk(target) for name in names]
        return super().get_outputs(include_bytecode) + copied


openmp = sys.platform != "win32" and compiler_supports_openmp()
flags = ["-O3", "-fvisibility=hidden"] + (["-fopenmp"] if openmp else [])

ParallelCompile("TWIN_BUILD_JOBS", default=0).install()

setup(
    ext_modules=[
        Pybind11Extension(
            "twin._native",
            sorted(glob.glob("twin/native/*.cpp")),
            include_dirs=["twin/native", os.environ.get("EIGEN3_INCLUDE_DIR", "/usr/include/eigen3")],
            depends=sorted(glob.glob("twin/native/*.hpp")),  # a header edit rebuilds the module
            cxx_std=17,
            extra_compile_args=flags,
            extra_link_args=["-fopenmp"] if openmp else [],
            define_macros=[("TWIN_HAVE_OPENMP", "1")] if openmp else [],
        )
    ],
    cmdclass={"build_ext": build_ext, "build_py": build_py_with_viewer},
)
