"""The README's command lines work as a new user types them, after `make run`'s set-up."""

import re
import shlex
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MANAGE = ".venv/bin/python manage.py "

COMMAND_LINES = [line.removeprefix(MANAGE) for line in README.splitlines() if line.startswith(MANAGE)]


def test_readme_shows_a_working_line_for_every_registry_command():
    named = {shlex.split(line)[0] for line in COMMAND_LINES}
    assert {"export_registry", "import_registry", "check_data_quality", "summary_table", "generate_synthetic"} <= named


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("line", COMMAND_LINES)
def test_readme_command_line_runs_as_written(line, settings, tmp_path, monkeypatch):
    settings.DEBUG = True  # `make run` is the development configuration
    call_command("load_published_series", verbosity=0)
    call_command("create_demo_users", "--password", "a-demo-password-for-tests", stdout=StringIO())
    monkeypatch.chdir(tmp_path)
    call_command("export_registry", "--user", "demo-reviewer", "--output", "registry.xlsx", stdout=StringIO())
    name, *args = shlex.split(line)
    call_command(name, *args, stdout=StringIO())


def test_make_run_serves_on_the_port_given_by_PORT():
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"runserver 127\.0\.0\.1:8123\b", dry_run)
    default = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert re.search(r"runserver 127\.0\.0\.1:8000\b", default)
