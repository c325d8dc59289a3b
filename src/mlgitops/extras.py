"""Mount each plugin on the CLI, or, when the extra it needs is not installed, a stand-in that
says which one to install.

`pip install mlgitops` brings only what report, gate and comment need; deploy, drift and the
serving runtime come as extras (pyproject.toml). The CLI must start without them, so a plugin's
module is imported only when its extra is there, and which packages make up an extra is read
from the installed distribution's own metadata, never repeated here.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata
from typing import Annotated, Any

import typer
from packaging.requirements import Requirement

from mlgitops.errors import UsageError
from mlgitops.plugin import plugin_app

DISTRIBUTION = "mlgitops"


class MissingExtraError(UsageError):
    """Raised when a command runs without the extra it needs (exit 2, with the pip command)."""

    def __init__(self, command: str, extra: str) -> None:
        self.command, self.extra = command, extra
        super().__init__(
            f'mlgitops {command}: needs the {extra} extra: pip install "mlgitops[{extra}]"'
        )


def _in_extra(requirement: Requirement, extra: str) -> bool:
    # Only requirements the extra adds: a marker true without any extra is the base's.
    marker = requirement.marker
    return (
        marker is not None
        and marker.evaluate({"extra": extra})
        and not marker.evaluate({"extra": ""})
    )


@functools.cache  # read once per process: every mount asks, and metadata scans sys.path
def missing(extra: str) -> tuple[str, ...]:
    """The distributions `extra` needs that are not installed; none when all are, or when
    mlgitops itself is not installed (run from a source tree: nothing to compare with)."""
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return ()
    absent: list[str] = []
    for line in requires:
        requirement = Requirement(line)
        if not _in_extra(requirement, extra):
            continue
        try:
            metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            absent.append(requirement.name)
    return tuple(absent)


def require(command: str, extra: str) -> None:
    """Raise MissingExtraError when `extra` is not installed: for a part of a command that
    needs it (the base of the command runs without)."""
    if missing(extra):
        raise MissingExtraError(command, extra)


def _stand_in(command: str, extra: str) -> typer.Typer:
    """A command that takes any arguments, --help included, and only says which extra to
    install (the arguments go to one catch-all argument, so none is taken for a subcommand)."""
    app = plugin_app(f'Needs the {extra} extra: pip install "mlgitops[{extra}]".')
    settings = {"ignore_unknown_options": True, "help_option_names": []}

    @app.callback(invoke_without_command=True, context_settings=settings)
    def _needs_extra(arguments: Annotated[list[str] | None, typer.Argument()] = None) -> None:
        raise MissingExtraError(command, extra)

    return app


def mount(parent: typer.Typer, name: str, module: str, extra: str | None, line: str) -> None:
    """Add `module`'s `app` as the subcommand `name`, or the stand-in when `extra` is missing."""
    if extra is not None and missing(extra):
        short = f"{line.rstrip('.')} (needs mlgitops[{extra}])."
        parent.add_typer(_stand_in(name, extra), name=name, short_help=short)
        return
    plugin: Any = importlib.import_module(module)
    parent.add_typer(plugin.app, name=name, short_help=line)
