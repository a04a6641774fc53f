"""Template files: ids are stable and distinct, syntax errors and unknown formats name the file."""
import pytest

from qagen.errors import SpecError
from qagen.render.catalogue import load_catalogue, load_template_file, template_dirs


def test_every_shipped_template_has_three_paraphrases_with_distinct_ids():
    for task, formats in load_catalogue(template_dirs()).items():
        for fmt, paraphrases in formats.items():
            assert len(paraphrases) >= 3, (task, fmt)
            ids = [t.id for t in paraphrases]
            assert len(set(ids)) == len(ids)
            assert all(i.startswith(f"{task}/{fmt}/") for i in ids)


def test_jinja_syntax_error_names_file_and_entry(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text('task: t\nfill:\n  - {id: 0, question: "How {{ a ", answer: "x"}\n')
    with pytest.raises(SpecError, match=r"t\.yaml \[fill\[0\]\.question\]"):
        load_template_file(path)


def test_unknown_format_rejected(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text('task: t\nfil:\n  - {id: 0, question: "q", answer: "a"}\n')
    with pytest.raises(SpecError, match="unknown format"):
        load_template_file(path)


def test_duplicate_ids_rejected(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text('task: t\nfill:\n  - {id: 0, question: "q", answer: "a"}\n  - {id: 0, question: "r", answer: "b"}\n')
    with pytest.raises(SpecError, match="distinct"):
        load_template_file(path)


def _shipped_texts():
    from qagen.specs.load import read_yaml

    for path in sorted(template_dirs()[0].glob("*.yaml")):
        for fmt, entries in read_yaml(path).items():
            if fmt != "task":
                for entry in entries:
                    yield from (entry["question"], entry["answer"])


def test_every_shipped_template_renders_as_jinja_does():
    """The plain-template fast path gives Jinja's text exactly, for every shipped text (and the
    few with expressions go through Jinja itself)."""
    import jinja2.meta

    from qagen.render.env import PlainTemplate, compile_template, environment

    env, plain, texts = environment(), 0, list(_shipped_texts())
    for text in texts:
        names = jinja2.meta.find_undeclared_variables(env.parse(text))
        variables = {name: f"the RED point [1, 2] of {name}" for name in names} | {"criterion": "closest"}
        compiled = compile_template(text)
        plain += isinstance(compiled, PlainTemplate)
        assert compiled.render(variables) == env.from_string(text).render(variables), text
    assert plain >= 0.9 * len(texts)  # the fast path is the common one


@pytest.mark.parametrize("text", ["Is {{ a }} here?", "{{ a | capitalize }} is here.", "{{ a if b else c }}"])
def test_a_missing_variable_fails_on_either_path(text):
    import jinja2

    from qagen.render.env import compile_template

    with pytest.raises(jinja2.UndefinedError, match="'a' is undefined"):
        compile_template(text).render({"b": True})


def test_only_text_and_bare_variables_take_the_plain_path():
    from qagen.render.env import JinjaTemplate, PlainTemplate, compile_template

    assert isinstance(compile_template("{{ a }} and {{ b | capitalize }}."), PlainTemplate)
    for text in ("{% if a %}x{% endif %}", "{{ a | upper }}", "{{ a ~ b }}", "{{ a | capitalize(1) }}"):
        assert isinstance(compile_template(text), JinjaTemplate), text
