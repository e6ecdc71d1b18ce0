"""Stale cassettes: files under a cassette root that no collected test uses.

Collection facts (which cassettes tests use, which folders hold them) are plain strings,
so pytest-xdist workers can hand theirs to the controller, which adds them up and looks.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CassetteUse", "stale_cassettes"]


def _norm(path: Path | str) -> str:
    return os.path.normpath(str(path))


@dataclass
class CassetteUse:
    """What collection saw: cassettes in use, and where cassettes of collected modules live."""

    expected: set[str] = field(default_factory=set)
    """Cassette files of collected tests that use the plugin (deselected ones included)."""
    module_dirs: set[str] = field(default_factory=set)
    """``<cassette root>/<module>`` folders of collected test modules."""
    roots: dict[str, str] = field(default_factory=dict)
    """Each cassette root (``…/cassettes``) and the test folder it mirrors."""
    partial: set[str] = field(default_factory=set)
    """Module folders of modules not collected whole (node ids, -k, -m, --lf): never judged."""

    def add_module(self, default_cassette: Path, test_dir: Path) -> None:
        module_dir = default_cassette.parent
        self.module_dirs.add(_norm(module_dir))
        self.roots[_norm(module_dir.parent)] = _norm(test_dir)

    def add_used(self, cassette: Path) -> None:
        self.expected.add(_norm(cassette))

    def add_partial(self, module_dir: Path) -> None:
        self.partial.add(_norm(module_dir))

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": sorted(self.expected),
            "dirs": sorted(self.module_dirs),
            "roots": self.roots,
            "partial": sorted(self.partial),
        }

    def update(self, data: Mapping[str, Any]) -> None:
        """Add what an xdist worker collected (``to_dict`` output)."""
        self.expected.update(data.get("expected", ()))
        self.module_dirs.update(data.get("dirs", ()))
        self.roots.update(data.get("roots", {}))
        self.partial.update(data.get("partial", ()))


def _module_gone(folder: Path, test_dir: str, module_patterns: Iterable[str]) -> bool:
    """A ``<root>/<name>`` folder named like a test module whose ``<name>.py`` is gone."""
    file_name = f"{folder.name}.py"
    looks_like_module = any(fnmatch.fnmatch(file_name, pattern) for pattern in module_patterns)
    return looks_like_module and not (Path(test_dir) / file_name).exists()


def stale_cassettes(use: CassetteUse, module_patterns: Iterable[str], cwd: Path) -> list[str]:
    """Cassettes nobody collected uses, relative to ``cwd`` when below it, sorted.

    Looked at: the cassette folders of modules collected whole, and the folders of test
    modules that no longer exist. A module narrowed to some of its tests, or left out, is
    never judged: the run cannot know what its other tests use.
    """
    patterns = list(module_patterns)
    folders = {Path(d) for d in use.module_dirs - use.partial}
    for root, test_dir in use.roots.items():
        root_path = Path(root)
        if root_path.is_dir():
            folders.update(
                sub
                for sub in root_path.iterdir()
                if sub.is_dir() and _norm(sub) not in use.module_dirs and _module_gone(sub, test_dir, patterns)
            )
    found = {_norm(p) for folder in folders for p in folder.glob("*.jsonl")}
    return sorted(_relative(p, cwd) for p in found - use.expected)


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
