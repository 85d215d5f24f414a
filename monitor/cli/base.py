"""The `newsmon` command line: the group, its context and shared options.

Command bodies build objects, call one function and print. Our errors become one line on
stderr and exit code 1; only bugs show a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from monitor.config import Config, load_config
from monitor.daemon import utcnow
from monitor.errors import MonitorError
from monitor.netguard import AddressPolicy
from rules import RuleError, RuleSet
from rules import load as load_rules
from storage import StorageError, Store

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def handles_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MonitorError, RuleError, StorageError) as e:
            _fail(str(e))

    return wrapper  # type: ignore[return-value]


def _where(ev: dict[str, Any]) -> str:
    return f"{ev['field']}[{ev['start']}:{ev['end']}]"


def rules_option(fn: F) -> F:
    return click.option(
        "--rules",
        "rule_paths",
        multiple=True,
        type=click.Path(exists=True),
        help="Rule file or folder (repeatable). Default: the configured rules.",
    )(fn)


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")(fn)


def emit_json(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, default=str))


class Context:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def rules(self, paths: Iterable[str] = ()) -> RuleSet:
        paths = list(paths) or self.config.rules
        names = {d.name for d in self.config.destinations}
        return RuleSet(load_rules(paths, destinations=names))

    @property
    def policy(self) -> AddressPolicy:
        c = self.config
        return AddressPolicy(c.allow_private_networks, c.allowed_networks)

    def store(self) -> Store:
        return Store(self.config.database)


pass_ctx = click.make_pass_decorator(Context)

__all__ = [
    "Context",
    "_fail",
    "_where",
    "emit_json",
    "handles_errors",
    "json_option",
    "main",
    "pass_ctx",
    "rules_option",
    "utcnow",
]


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="NEWSMON_CONFIG",
    type=click.Path(dir_okay=False),
    help="Config file (YAML). Default: $NEWSMON_CONFIG, else built-in defaults.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.version_option(package_name="newsmon")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """newsmon: self-hosted news monitoring with entity and legal-status alerts."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    ctx.obj = Context(config_path)
