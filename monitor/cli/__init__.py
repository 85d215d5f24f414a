"""The `newsmon` command line. The only package that imports click.

Command bodies build objects, call one function and print. Our errors become one line on
stderr and exit code 1; only bugs show a traceback.
"""

from monitor.cli import daemon, feeds, outbox, review  # noqa: F401 - registers commands
from monitor.cli.base import main

__all__ = ["main"]
