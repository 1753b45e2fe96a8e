"""Packaging hook: the wheel carries the board descriptions and flash rules of platforms/
inside the package (pybench/platforms/), so an installed bench needs no checkout of this
repository. In a checkout (and an editable install) the bench reads platforms/ itself
(pybench/paths.py). Everything else is declared in pyproject.toml."""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

PLATFORM_FILES = ("*.repl", "*.resc", "*.py")


class BuildPyWithPlatforms(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        src = Path(__file__).resolve().parent / "platforms"
        dst = Path(self.build_lib) / "pybench" / "platforms"
        dst.mkdir(parents=True, exist_ok=True)
        for pattern in PLATFORM_FILES:
            for path in src.glob(pattern):
                shutil.copy2(path, dst / path.name)


setup(cmdclass={"build_py": BuildPyWithPlatforms})
