"""Builds the native core (cerulean._native) with the project's CMake build, then packages it
with the pure-Python modules. `pip install --no-build-isolation ./python` from a checkout;
CERULEAN_BUILD_DIR picks the CMake build tree (default: build/release, configured with the
release preset if it is not yet)."""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


class CMakeBuild(build_ext):
    def build_extension(self, extension):
        build_dir = Path(os.environ.get("CERULEAN_BUILD_DIR", ROOT / "build" / "release"))
        if not (build_dir / "build.ninja").exists():
            subprocess.check_call(["cmake", "--preset", "release"], cwd=ROOT)
            build_dir = ROOT / "build" / "release"
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_native"], cwd=ROOT)
        built = next((build_dir / "python" / "cerulean").glob("_native*.so"))
        target = Path(self.get_ext_fullpath(extension.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(ext_modules=[Extension("cerulean._native", sources=[])], cmdclass={"build_ext": CMakeBuild})
