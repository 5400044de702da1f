"""The code's layout stays findable: short modules, small folders, readable templates, one rule each."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cases", "registry", "synthetic")
MODULE_LINES = 420
FOLDER_MODULES = 12
TEMPLATE_LINE = 120


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


@pytest.mark.parametrize("path", list(modules()), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_outside_migrations_is_longer_than_420_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MODULE_LINES


def test_no_folder_holds_more_than_12_modules():
    folders = {path.parent for path in modules()}
    crowded = {
        str(folder.relative_to(ROOT)): count
        for folder in folders
        if (count := len([p for p in folder.glob("*.py") if p.name != "__init__.py"])) > FOLDER_MODULES
    }
    assert crowded == {}


def templates():
    return sorted((ROOT / "templates").rglob("*.html"))


def test_no_template_line_is_longer_than_120_characters():
    long_lines = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in templates()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > TEMPLATE_LINE
    ]
    assert long_lines == []


def test_every_template_comment_closes_on_its_own_line():
    """`{# ... #}` ends on the line it starts on; otherwise Django prints it on the page."""
    unclosed = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in templates()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{#(?!.*#\})", line)
    ]
    assert unclosed == []


def test_every_url_of_the_clinical_pages_is_named_on_its_own_line():
    """`grep name=` finds every URL name: no path() call spans lines (the record pages are named in a loop)."""
    source = (ROOT / "cases" / "urls.py").read_text(encoding="utf-8")
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "path"
    ]
    assert calls and all(call.lineno == call.end_lineno for call in calls)


def function_bodies():
    """Each function in cases/ and registry/ with its body (docstring left out), as the parser reads it."""
    for path in modules():
        if path.parts[len(ROOT.parts)] == "synthetic":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]
                if len(body) == 1 and isinstance(body[0], ast.Return | ast.Pass | ast.Raise | ast.Expr):
                    text = ast.dump(ast.Module(body=body, type_ignores=[]))
                    if isinstance(body[0], ast.Return) and "BoolOp" in text:  # a rule, e.g. who may edit
                        yield f"{path.relative_to(ROOT)}::{node.name}", text


def test_one_rule_decides_whether_a_case_and_its_records_can_be_edited_or_removed():
    seen = {}
    for name, text in function_bodies():
        seen.setdefault(text, []).append(name)
    assert [names for names in seen.values() if len(names) > 1] == []
