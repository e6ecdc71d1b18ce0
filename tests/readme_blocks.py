"""The README's ```python blocks, by heading: the one parser the README tests share (the
snippets runner, the field examples, the guard that every block is run by some test)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


@dataclass(frozen=True)
class Block:
    heading: str
    """The nearest heading above, with its ``#`` marks: ``"### Spans"``."""
    code: str
    """The block's text, dedented (a block inside a list item is indented)."""

    @property
    def first_line(self) -> str:
        return self.code.splitlines()[0]


def python_blocks(text: str | None = None) -> list[Block]:
    """Every ```python block of the README, in document order."""
    lines = (README.read_text() if text is None else text).splitlines()
    blocks: list[Block] = []
    heading, fence, body = "", "", list[str]()
    for line in lines:
        stripped = line.strip()
        if fence:
            if stripped == "```":
                if fence == "```python":
                    blocks.append(Block(heading, textwrap.dedent("\n".join(body)) + "\n"))
                fence, body = "", []
            else:
                body.append(line)
        elif stripped.startswith("```"):
            fence = stripped
        elif line.startswith("#"):
            heading = line
    return blocks


def readme_block(heading: str, index: int = 0) -> str:
    """The ``index``-th ```python block under ``heading`` (``"## A first test"``)."""
    found = [block.code for block in python_blocks() if block.heading == heading]
    if len(found) <= index:
        msg = f"README.md has {len(found)} python block(s) under {heading!r}, not {index + 1}"
        raise LookupError(msg)
    return found[index]
