"""The one Jinja environment. StrictUndefined: a template that names a variable the renderer does
not provide fails loudly instead of printing an empty string into a training set."""
from __future__ import annotations

from functools import lru_cache

import jinja2


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
