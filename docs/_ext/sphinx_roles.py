"""Griffe extension for the API pages: the docstrings' reST markup that Markdown lacks.

The docstrings write ``:func:`name``` (and ``:class:``, ``:data:``, ...), which Markdown would
show literally; ``:func:`~a.b.c``` becomes ``c`` as in Sphinx, anything else the target as written.
A line ending in ``::`` (reST's literal-block marker) ends in one colon, as Sphinx shows it.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:func|class|data|meth|attr|mod|obj|exc):`(~?)([^`]+)`")
#: reST's "text::" before an indented block: Markdown shows the block as code already.
LITERAL = re.compile(r"(\S)::$", re.MULTILINE)


def _code(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring's roles once, when griffe has loaded the object."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = LITERAL.sub(r"\1:", ROLE.sub(_code, obj.docstring.value))
