"""The console script loads only the modules of the command it runs: the table of which
module adds to which top-level command must match what the modules really register."""

from __future__ import annotations

import json
import subprocess
import sys

from labelproof.cli import COMMANDS, all_modules

# Registers the modules one at a time (in name order, as the full app does) and records
# which top-level commands each one added or changed, down to every sub-command name.
_PROBE = r"""
import json, typer
import labelproof.cli as cli

def tree(cmd):
    subs = getattr(cmd, "commands", None) or {}
    return {name: tree(sub) for name, sub in sorted(subs.items())}

def snapshot():
    group = typer.main.get_command(cli._app)
    return tree(group)

touched = {}
before = snapshot() if cli._app.registered_commands or cli._app.registered_groups else {}
for name in cli.all_modules():
    cli.register([name])
    after = snapshot() if cli._app.registered_commands or cli._app.registered_groups else {}
    for command in set(before) | set(after):
        if before.get(command) != after.get(command):
            touched.setdefault(command, []).append(name)
    before = after
print(json.dumps(touched))
"""

_FORMATS_ONLY = r"""
import sys
sys.argv = ["labelproof", "formats"]
from labelproof.cli import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
heavy = sorted(m for m in ("sqlalchemy", "fastapi", "labelproof.services") if m in sys.modules)
print("HEAVY", ",".join(heavy))
"""


def test_the_command_table_names_every_module_that_adds_to_a_command() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    touched = {k: tuple(sorted(v)) for k, v in json.loads(out.strip().splitlines()[-1]).items()}
    assert touched == {k: tuple(sorted(v)) for k, v in COMMANDS.items()}
    assert {m for mods in COMMANDS.values() for m in mods} <= set(all_modules())


def test_convert_and_formats_do_not_load_the_server_stack() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _FORMATS_ONLY], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "coco" in proc.stdout  # the codec list was printed
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY"  # none of them imported
