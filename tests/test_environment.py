"""The notebook extra's lock adds to the base lock and changes none of its pins."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.M)


def _pins(name: str) -> dict[str, str]:
    return {package.lower(): version for package, version in PIN.findall((ROOT / name).read_text())}


def test_the_notebook_lock_keeps_every_base_pin_and_adds_the_extra():
    base, notebook = _pins("requirements.lock"), _pins("requirements-notebook.lock")
    changed = {name: (v, notebook.get(name)) for name, v in base.items() if notebook.get(name) != v}
    assert not changed, f"re-run `make lock`: the notebook lock moves base pins {changed}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = project["optional-dependencies"]["notebook"]
    for requirement in extra:
        name = re.split(r"[\[<>=!~ ]", requirement)[0].lower()
        assert name in notebook, f"{name} (notebook extra) is not in requirements-notebook.lock"
    assert {"jupyterlab", "ipywidgets", "bokeh", "flask"} <= set(notebook)
    # every line of the lock is hash-checked, as make notebook-setup installs it with --require-hashes
    text = (ROOT / "requirements-notebook.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text)[1:]
    assert len(blocks) == len(notebook) and all("--hash=sha256:" in block for block in blocks)
