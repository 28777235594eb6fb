"""The generated pages of docs/, each from the code it documents (`make docs`; a test fails when stale).

Run as `python -m simkit.docs` from the repository root to rewrite them all.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

GENERATED = {
    "docs/events.md": "simkit.story:events_doc",
    "docs/scenarios.md": "simkit.scenario.authoring:scenarios_doc",
}
"""Each generated page (relative to the repository root) and the function that writes its text."""


def render(page: str) -> str:
    """The text a generated page should hold now."""
    module, function = GENERATED[page].split(":")
    return getattr(import_module(module), function)()


def main(root: Path = Path()) -> None:
    """Rewrite every generated page under `root`."""
    for page in GENERATED:
        (root / page).write_text(render(page))
        print(f"wrote {page}")


if __name__ == "__main__":
    main()
