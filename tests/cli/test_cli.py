"""The `twin` command itself: installed entry points, help, exit codes."""
import subprocess
import sys

from twin import __version__
from twin.cli import build_parser, main


def test_python_dash_m_runs_the_same_command_line():
    result = subprocess.run([sys.executable, "-m", "twin", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.strip() == f"twin {__version__}"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "twin demo" in capsys.readouterr().out


def test_every_subcommand_has_help_text():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert sub.description, f"`twin {name}` has no description"
        assert sub.format_help().count("\n") > 2
