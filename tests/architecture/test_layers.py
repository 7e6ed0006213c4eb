"""The layers of DESIGN.md hold: no app reaches an app above it, by import or by a template's URL name."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Lowest first; the apps on one rung of the top are siblings that must not know each other.
LAYERS = [["clinic"], ["notifications"], ["screening"], ["bookings"], ["treatments"], ["privacy", "benchmarks", "api"]]
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}
# The composition root names every app: the shared layout and the home page.
COMPOSITION_ROOT_TEMPLATES = {"base.html", "clinic/home.html"}
URL_TAG = re.compile(r"""\{%\s*url\s+['"](?P<namespace>[\w-]+):""")


def _namespace_apps() -> dict[str, str]:
    """Each URL namespace and the app whose URLconf defines it."""
    owners: dict[str, str] = {}
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace:
            module = entry.urlconf_module
            name = module.__name__ if hasattr(module, "__name__") else ""
            owners[entry.namespace] = name.split(".")[0] if name else entry.namespace
    return owners


def _template_app(path: Path, templates_dir: Path) -> str | None:
    relative = path.relative_to(templates_dir)
    return relative.parts[0] if len(relative.parts) > 1 else None


def test_no_template_links_to_an_app_above_its_own():
    templates_dir = ROOT / "templates"
    owners = _namespace_apps()
    upward = []
    for path in sorted(templates_dir.rglob("*.*")):
        relative = str(path.relative_to(templates_dir))
        app = _template_app(path, templates_dir)
        if relative in COMPOSITION_ROOT_TEMPLATES or app not in RANK:
            continue
        for match in URL_TAG.finditer(path.read_text(encoding="utf-8")):
            target = owners.get(match["namespace"])
            if target in RANK and (RANK[target] > RANK[app] or (RANK[target] == RANK[app] and target != app)):
                upward.append(f"{relative}: {match.group(0)} ({app} -> {target})")
    assert upward == [], "templates reaching an app above their own:\n" + "\n".join(upward)


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is installed by requirements-dev.txt")
def test_import_linter_keeps_the_layers_and_refuses_an_upward_import(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "node_modules", "__pycache__", "tests", ".*cache"),
    )
    kept = subprocess.run([LINT_IMPORTS], cwd=project, capture_output=True, text=True, check=False)  # noqa: S603
    assert kept.returncode == 0, kept.stdout + kept.stderr

    (project / "screening" / "upward_probe.py").write_text("from bookings.models import Appointment  # noqa\n")
    broken = subprocess.run([LINT_IMPORTS], cwd=project, capture_output=True, text=True, check=False)  # noqa: S603
    assert broken.returncode != 0
    assert "screening.upward_probe -> bookings.models" in broken.stdout
