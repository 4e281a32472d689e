"""Builds the C++ registration core (twin/native/*.cpp) into the extension module twin._native."""
import glob
import os
import subprocess
import sys
import tempfile

from pybind11.setup_helpers import Pybind11Extension, ParallelCompile, build_ext
from setuptools import setup


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
    cmdclass={"build_ext": build_ext},
)
