"""Spec loading: the shipped specs are valid; malformed ones fail with the file and the key."""
from pathlib import Path

import pytest

from qagen.errors import SpecError
from qagen.pipeline import catalogue
from qagen.specs.load import load_spec, load_specs, spec_dirs

GOOD = """name: my_task
version: 1
description: test
level: perception
modality: single_view
relation: oo
requires: [frames, boxes]
sampler: single_view_objects
sampler_args: {roles: [a, b]}
answer: center_distance
formats: [fill]
"""


def write(tmp_path: Path, text: str, name: str = "my_task") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_shipped_specs_all_load_and_resolve():
    cat = catalogue.load()
    assert len(cat.specs) >= 10
    for spec in cat.specs.values():
        assert spec.formats, spec.name


def test_unknown_key_names_file_key_and_close_match(tmp_path):
    path = write(tmp_path, GOOD + "filtres: {min_pixels: 10}\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "my_task.yaml" in str(err.value) and "filtres" in str(err.value) and "filters" in str(err.value)


def test_nested_unknown_key_is_rejected(tmp_path):
    path = write(tmp_path, GOOD + "filters: {min_pixel: 10}\n")
    with pytest.raises(SpecError, match=r"filters\.min_pixel"):
        load_spec(path)


def test_name_must_match_file(tmp_path):
    path = write(tmp_path, GOOD, name="other")
    with pytest.raises(SpecError, match="must match its file name"):
        load_spec(path)


def test_select_format_needs_select_block(tmp_path):
    path = write(tmp_path, GOOD.replace("formats: [fill]", "formats: [fill, select]"))
    with pytest.raises(SpecError, match="select"):
        load_spec(path)


def check_user_task(tmp_path, spec_text: str, template_text: str) -> None:
    """Load one user spec and its template file and check them against each other and the registries."""
    specs, templates = tmp_path / "specs", tmp_path / "templates"
    specs.mkdir()
    templates.mkdir()
    write(specs, spec_text)
    (templates / "my_task.yaml").write_text(template_text)
    catalogue.check(load_specs([specs]), catalogue.load_catalogue([templates]), {"my_task": specs / "my_task.yaml"})


def test_unknown_sampler_is_reported_with_close_match(tmp_path):
    template = 'task: my_task\nfill:\n  - {id: 0, question: "How far {{ a }} {{ b }}?", answer: "{{ value }}"}\n'
    with pytest.raises(SpecError) as err:
        check_user_task(tmp_path, GOOD.replace("single_view_objects", "single_view_object"), template)
    assert "single_view_objects" in str(err.value)


def test_missing_template_format_is_reported(tmp_path):
    template = 'task: my_task\nfill:\n  - {id: 0, question: "q {{ a }}", answer: "{{ value }}"}\n'
    with pytest.raises(SpecError, match="sentence"):
        check_user_task(tmp_path, GOOD.replace("formats: [fill]", "formats: [fill, sentence]"), template)


def test_user_folder_overrides_shipped_spec(tmp_path):
    shipped = load_specs(spec_dirs())["distance_prediction_oo"]
    text = (spec_dirs()[0] / "distance_prediction_oo.yaml").read_text().replace("per_scene", "#")
    text += "per_scene: 3\n"
    (tmp_path / "distance_prediction_oo.yaml").write_text(text)
    merged = load_specs(spec_dirs([tmp_path]))
    assert merged["distance_prediction_oo"].per_scene == 3 != shipped.per_scene
