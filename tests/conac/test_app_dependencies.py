"""Dependencies point one way (DESIGN §3): review ← registry ← billing, badges → registry, review.

Every import in every module of every app (functions' local imports included) is read
from the source, so a new import against the direction fails here before it becomes a cycle.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

APPS = ("conac", "review", "registry", "billing", "badges", "rdap")
ALLOWED = {
    "review": {"conac", "review"},
    "registry": {"conac", "review", "registry"},
    "billing": {"conac", "review", "registry", "billing"},
    "badges": {"conac", "review", "registry", "badges"},
    # RDAP publishes what registry and badges hold; nothing imports it.
    "rdap": {"conac", "registry", "badges", "rdap"},
    # The project package holds the shared pieces; only its commands that span apps see them all.
    "conac": {"conac"},
}
SPANNING = Path("conac") / "management"


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def _modules(app):
    root = Path(settings.BASE_DIR) / app
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


@pytest.mark.parametrize("app", APPS)
def test_imports_follow_the_direction_of_dependencies(app):
    wrong = []
    for path in _modules(app):
        relative = path.relative_to(settings.BASE_DIR)
        allowed = set(APPS) if SPANNING in relative.parents else ALLOWED[app]
        wrong += [f"{relative}: {name}" for name in set(_imports(path)) if name in APPS and name not in allowed]
    assert not wrong, wrong


def test_the_walk_sees_the_apps():
    assert len(list(_modules("badges"))) > 5 and len(list(_modules("registry"))) > 10
