"""The command line, ``dynapose COMMAND`` (click): each command is a thin layer over the Python
API."""

from dynapose.cli.main import main

__all__ = ["main"]
