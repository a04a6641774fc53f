"""The one Jinja environment, and how a template text becomes a render function.

StrictUndefined: a template that names a variable the renderer does not provide fails loudly
instead of printing an empty string into a training set.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Union

import jinja2
import jinja2.meta
from jinja2 import nodes

# The filters a template may apply to a bare variable and still be rendered without Jinja's runtime.
PLAIN_FILTERS = ("capitalize",)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Templates see the renderer's variables only: no range(), dict(), lipsum() ... (which would
    # also cost every render a merge of these globals into its context).
    env.globals.clear()
    return env


class PlainTemplate:
    """A template that only places variables (`{{ a }}`, `{{ a | capitalize }}`), as every shipped
    one does, rendered by joining its pieces: the same text Jinja renders, without building a Jinja
    context per call (most of the 25 µs a render otherwise costs, twice per QA)."""

    def __init__(self, pieces: tuple[Union[str, tuple[str, str | None]], ...]):
        self.pieces = pieces  # literal text, or (variable, filter or None)
        self.names = frozenset(piece[0] for piece in pieces if piece.__class__ is not str)
        self._filters = environment().filters

    def render(self, variables: Mapping[str, object]) -> str:
        out = []
        for piece in self.pieces:
            if piece.__class__ is str:
                out.append(piece)
                continue
            name, applied = piece
            try:
                value = variables[name]
            except KeyError:
                raise jinja2.UndefinedError(f"{name!r} is undefined") from None
            out.append(str(value) if applied is None else self._filters[applied](value))
        return "".join(out)


class JinjaTemplate:
    """Any other template (tags, expressions, other filters): Jinja renders it."""

    def __init__(self, template: jinja2.Template, names: frozenset[str]):
        self.template = template
        self.names = names  # the variables it reads

    def render(self, variables: Mapping[str, object]) -> str:
        return self.template.render(variables)


def compile_template(text: str) -> PlainTemplate | JinjaTemplate:
    """The render function of a template text (jinja2.TemplateSyntaxError when it does not parse);
    its `names` are the variables it reads, so that the renderer spells only those."""
    env = environment()
    tree = env.parse(text)
    pieces = _plain_pieces(tree.body)
    if pieces is not None:
        return PlainTemplate(pieces)
    return JinjaTemplate(env.from_string(text), frozenset(jinja2.meta.find_undeclared_variables(tree)))


def _plain_pieces(body: list[nodes.Node]) -> tuple | None:
    """The template's pieces when it is text and bare variables only, else None."""
    pieces: list = []
    for statement in body:
        if not isinstance(statement, nodes.Output):
            return None
        for node in statement.nodes:
            if isinstance(node, nodes.TemplateData):
                pieces.append(node.data)
            elif isinstance(node, nodes.Name):
                pieces.append((node.name, None))
            elif (isinstance(node, nodes.Filter) and node.name in PLAIN_FILTERS and isinstance(node.node, nodes.Name)
                  and not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)):
                pieces.append((node.node.name, node.name))
            else:
                return None
    return tuple(pieces)
