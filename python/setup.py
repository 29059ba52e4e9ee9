"""Builds the native core (cerulean._native) with the project's CMake build, then packages it
with the pure-Python modules. `pip install --no-build-isolation ./python` from a checkout;
CERULEAN_BUILD_DIR picks the CMake build tree (default: build/release, configured with the
release preset if it is not yet)."""

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


class CMakeBuild(build_ext):
    def build_extension(self, extension):
        if "CERULEAN_BUILD_DIR" in os.environ:
            build_dir = Path(os.environ["CERULEAN_BUILD_DIR"])
            if not (build_dir / "build.ninja").exists():
                raise RuntimeError(f"CERULEAN_BUILD_DIR={build_dir} is not a configured CMake build tree")
        else:
            build_dir = ROOT / "build" / "release"
            if not (build_dir / "build.ninja").exists():
                subprocess.check_call(["cmake", "--preset", "release"], cwd=ROOT)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_native"], cwd=ROOT)
        # The core is built for Debian's /usr/bin/python3; another interpreter cannot load it.
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = build_dir / "python" / "cerulean" / f"_native{suffix}"
        if not built.exists():
            raise RuntimeError(f"{built} was not built: the native core is built for /usr/bin/python3 "
                               f"({', '.join(p.name for p in built.parent.glob('_native*'))}); install with it")
        target = Path(self.get_ext_fullpath(extension.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(ext_modules=[Extension("cerulean._native", sources=[])], cmdclass={"build_ext": CMakeBuild})
