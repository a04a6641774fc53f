"""Every paraphrase of every format of every shipped task renders on a real synthetic scene:
StrictUndefined turns a variable the renderer does not provide into a failure here."""
from __future__ import annotations

import re

import pytest

from qagen.pipeline import catalogue
from qagen.pipeline.seeds import stream
from qagen.render.renderer import Renderer
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.tasks.context import TaskContext
from qagen.tasks.engine import sample_facts


@pytest.fixture(scope="module")
def lifted(small_world_native_dir):
    scene = load_scene(small_world_native_dir, loader="native")
    return scene, SceneIndex.build(scene)


def test_every_template_renders(lifted):
    scene, index = lifted
    cat = catalogue.load()
    rendered = 0
    for name, spec in sorted(cat.specs.items()):
        if not set(spec.requires) <= scene.capabilities | {"boxes"}:
            continue
        renderer = Renderer(spec, cat.templates[name], scene)
        for fmt in spec.formats:
            seed, rng = stream(0, scene.id, name, fmt)
            facts = sample_facts(TaskContext(scene, index, spec, rng), 2)
            assert facts, f"{name}/{fmt}: no fact to render on the test scene"
            for i, template in enumerate(cat.templates[name][fmt]):
                qa = renderer.render(facts[0], fmt, 0, rng, seed, template_index=i)
                assert qa.meta["template"] == template.id
                assert qa.question and qa.answer
                assert "{{" not in qa.question + qa.answer and "  " not in qa.question
                if fmt == "select":
                    assert re.fullmatch(r"[A-F]", qa.answer), qa.answer
                if fmt == "judge":
                    assert qa.answer in ("Yes", "No")
                rendered += 1
    assert rendered >= 10 * 3 * 3
