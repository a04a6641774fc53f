"""Every paraphrase of every format of every shipped task renders on a real synthetic scene:
StrictUndefined turns a variable the renderer does not provide into a failure here."""
from __future__ import annotations

import re

import pytest

from qagen.pipeline import catalogue
from qagen.pipeline.scene_job import capabilities
from qagen.pipeline.seeds import stream
from qagen.render.renderer import Renderer
from qagen.scene.index import SceneIndex
from qagen.scene.loaders import load_scene
from qagen.tasks.context import TaskContext
from qagen.tasks.engine import sample_facts
from qagen.tasks.fact import Reject


@pytest.fixture(scope="module")
def scenes(small_world_native_dir, camera_world_native_dir):
    """The small room first; the whole camera walk for tasks the 10-frame room cannot pose."""
    out = []
    for folder in (small_world_native_dir, camera_world_native_dir):
        scene = load_scene(folder, loader="native")
        out.append((scene, SceneIndex.build(scene)))
    return out


def first_facts(spec, fmt, scenes, templates):
    """The first fact of the test scenes that this format can word (as in a run, where a fact
    the renderer refuses, e.g. select options without room, is replaced by the next)."""
    for scene, index in scenes:
        if set(spec.requires) <= capabilities(scene, index):
            seed, rng = stream(0, scene.id, spec.name, fmt)
            renderer = Renderer(spec, templates, scene)
            keep = lambda fact: _renders(renderer, fact, fmt, rng, seed)  # noqa: E731
            facts = sample_facts(TaskContext(scene, index, spec, rng), 1, keep=keep)
            if facts:
                return scene, facts[0], rng, seed
    raise AssertionError(f"{spec.name}/{fmt}: no fact to render on the test scenes")


def _renders(renderer, fact, fmt, rng, seed) -> bool:
    try:
        renderer.render(fact, fmt, 0, rng, seed)
    except Reject:
        return False
    return True


def test_every_template_renders(scenes):
    cat = catalogue.load()
    rendered = 0
    for name, spec in sorted(cat.specs.items()):
        if "frames" not in spec.requires:
            continue  # scene-level tasks without images are rendered in their own tests
        for fmt in spec.formats:
            scene, fact, rng, seed = first_facts(spec, fmt, scenes, cat.templates[name])
            renderer = Renderer(spec, cat.templates[name], scene)
            for i, template in enumerate(cat.templates[name][fmt]):
                qa = renderer.render(fact, fmt, 0, rng, seed, template_index=i)
                assert qa.meta["template"] == template.id
                assert qa.question and qa.answer
                assert "{{" not in qa.question + qa.answer and "  " not in qa.question
                if fmt == "select":
                    assert re.fullmatch(r"[A-F]", qa.answer), qa.answer
                if fmt == "judge":
                    assert qa.answer in ("Yes", "No")
                rendered += 1
    assert rendered >= 40 * 3 * 2
