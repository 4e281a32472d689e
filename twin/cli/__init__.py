"""The `twin` command line: the only place that prints.

Room: on top of the house; it may import every other room, and none imports it.

Each subcommand lives in its own module in this package and is found automatically. A module
defines `COMMAND` (its name), `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import warnings

from twin import __version__
from twin.cli.errors import CliError

_NOT_COMMANDS = {"errors", "progress"}


def _command_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in _NOT_COMMANDS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "COMMAND"):
            yield module


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin",
        description="Turn scans of a workshop into a digital twin you can open in a browser or in AR.",
        epilog="Start with `twin demo`. Run `twin COMMAND --help` for the details of each command.",
    )
    parser.add_argument("--version", action="version", version=f"twin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        sub = subparsers.add_parser(
            module.COMMAND, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        with warnings.catch_warnings():
            # Libraries' warnings (numpy's among them) are chatter: shown with --verbose, never before our one
            # error line; bad input that causes them is refused with its own sentence where it is read.
            warnings.showwarning = _log_warning
            return int(args._run(args) or 0)
    except CliError as error:
        print(f"twin {args.command}: error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        # The library's bad-input errors are sentences meant for the user.
        print(f"twin {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    logging.getLogger("py.warnings").info("%s:%d: %s: %s", filename, lineno, category.__name__, message)
