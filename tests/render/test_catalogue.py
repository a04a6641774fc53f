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
