"""The audit flags answers a text-only learner can guess, and passes fair ones."""
from __future__ import annotations

import json

import numpy as np
import pytest

from qagen.errors import InputError
from qagen.pipeline.audit import audit

LABELS = ["chair", "table", "lamp", "sofa", "cup", "plant"]


def write_run(out, rows, task="toy", objects=None):
    """rows: (question, answer, format) or (question, answer, format, task); `objects`: per row,
    (scene, object ids) for the records' meta (default: none named)."""
    shard = out / "internvl" / "synthetic" / "s.jsonl"
    shard.parent.mkdir(parents=True)
    with shard.open("w") as f:
        for i, (question, answer, fmt, *named) in enumerate(rows):
            name = named[0] if named else task
            record = {"id": i, "conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}],
                      "meta": {"task": name, "format": fmt, "template": f"{name}/{fmt}/0", "answer": {"kind": "bool"},
                               "markers": [], "source": "synthetic"}}
            if objects is not None:
                scene, ids = objects[i]
                record["meta"].update(scene=scene, objects=[{"role": r, "id": k, "label": "x"} for r, k in zip("ab", ids)])
            f.write(json.dumps(record) + "\n")


def judge_rows(rng, leak: bool, n=600, balanced=False):
    """Judge records; `balanced`: exactly half true, as the renderer makes them."""
    halves = iter(rng.permutation(np.arange(n) % 2 == 0).tolist()) if balanced else None
    rows = []
    for _ in range(n):
        a, b = rng.choice(LABELS, 2, replace=False)
        truth = next(halves) if balanced else bool(rng.integers(2))
        if leak:  # the answer follows the first label: a dataset artefact
            truth = a in LABELS[:3]
        rows.append((f"<image>\nIs the {a} at [1, 2] left of the {b} at [3, 4]? Answer Yes or No.", "Yes" if truth else "No", "judge"))
    return rows


def test_fair_answers_are_not_flagged(tmp_path):
    write_run(tmp_path, judge_rows(np.random.default_rng(0), leak=False))
    report = audit(tmp_path)
    cell = report["cells"]["toy/judge"]
    assert report["flagged"] == [] and abs(cell["blind_accuracy"] - 0.5) < 0.1


def test_leaky_answers_are_flagged(tmp_path):
    write_run(tmp_path, judge_rows(np.random.default_rng(0), leak=True))
    report = audit(tmp_path)
    assert report["flagged"] == ["toy/judge"] and report["cells"]["toy/judge"]["blind_accuracy"] > 0.65


def test_letter_imbalance_is_flagged(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(400):
        letter = "A" if rng.random() < 0.6 else str(rng.choice(list("BCD")))
        rows.append(("How far?\nA. 1 m\nB. 2 m\nC. 3 m\nD. 4 m\nAnswer with a letter.", letter, "select"))
    write_run(tmp_path, rows)
    cell = audit(tmp_path)["cells"]["toy/select"]
    assert cell["flagged"] and cell["top_answer_share"] > 0.5 and cell["chance"] == 0.25


def test_small_cells_are_reported_but_not_judged(tmp_path):
    write_run(tmp_path, judge_rows(np.random.default_rng(2), leak=True, n=20))
    cell = audit(tmp_path)["cells"]["toy/judge"]
    assert cell["blind_accuracy"] is None and not cell["flagged"] and cell["records"] == 20


def test_fair_cells_are_flagged_no_more_often_than_the_noise_rate_says(tmp_path):
    """60 fair cells with balanced answers (as qagen's are): the flags raised stay within what
    `flags_expected_from_noise` (1.4) allows (more than 6 has probability under 0.1 % if the rate
    is right)."""
    rng = np.random.default_rng(3)
    rows = [(*row, f"fair{cell}") for cell in range(60) for row in judge_rows(rng, leak=False, n=300, balanced=True)]
    write_run(tmp_path, rows)
    report = audit(tmp_path)
    assert report["judged"] == 60 and report["flags_expected_from_noise"] == 1.4
    assert len(report["flagged"]) <= 6


def select_rows(rng, leak: bool, n=600):
    """Four relation-like options; with `leak`, the truth is the one option saying 'lower' among
    three saying 'higher' (a distractor rule that must contradict the truth), which a learner
    reading one option at a time does not see."""
    words = ["to the left", "to the right", "higher up", "lower down"]
    rows = []
    for _ in range(n):
        letter = "ABCD"[int(rng.integers(4))]
        if leak:
            texts = [f"{rng.choice(words[:2])} and higher up" for _ in range(4)]
            texts["ABCD".index(letter)] = f"{rng.choice(words[:2])} and lower down"
        else:
            texts = [f"{rng.choice(words[:2])} and {rng.choice(words[2:])}" for _ in range(4)]
        options = "\n".join(f"{L}. {t}" for L, t in zip("ABCD", texts))
        rows.append((f"<image>\nWhere is the cup relative to the lamp?\n{options}\nAnswer with a letter.", letter, "select"))
    return rows


def test_an_option_that_is_nearly_always_the_truth_when_shown_is_flagged(tmp_path):
    write_run(tmp_path, select_rows(np.random.default_rng(4), leak=True))
    cell = audit(tmp_path)["cells"]["toy/select"]
    assert cell["flagged"] and cell["option_spread"] > 10


def test_exchangeable_options_keep_the_spread_near_one(tmp_path):
    write_run(tmp_path, select_rows(np.random.default_rng(4), leak=False))
    cell = audit(tmp_path)["cells"]["toy/select"]
    assert not cell["flagged"] and 0.3 < cell["option_spread"] < 2.0


def twin_rows(rng, groups=150, repeats=4):
    """Judge records where a scene asks about the same pair of objects `repeats` times in other
    words with the same answer, and nothing in the text tells the answer: each pair has its own
    (letters-only) names, its answer a coin flip."""
    syllables = ["ka", "lo", "mi", "ru", "te", "vo", "zi", "ne"]
    rows, objects = [], []
    for g in range(groups):
        a, b = ("".join(rng.choice(syllables, 3)) for _ in range(2))
        truth = "Yes" if rng.integers(2) else "No"
        for _ in range(repeats):
            verb = rng.choice(["left of", "to the left of", "on the left side of"])
            rows.append((f"<image>\nIs the {a} {verb} the {b}? Answer Yes or No.", truth, "judge"))
            objects.append((f"scene{g % 5}", (2 * g, 2 * g + 1)))
    return rows, objects


def test_questions_asked_again_about_the_same_objects_do_not_count_as_a_leak(tmp_path):
    """A scene's questions about one pair of objects are held out together: remembering the pair's
    answer from its other questions is not a text-only shortcut that carries over to other scenes.
    Split record by record (as when no objects are named), the same records look leaky."""
    rng = np.random.default_rng(7)
    rows, objects = twin_rows(rng)
    write_run(tmp_path / "grouped", rows, objects=objects)
    grouped = audit(tmp_path / "grouped")["cells"]["toy/judge"]
    assert not grouped["flagged"] and abs(grouped["blind_accuracy"] - 0.5) < 0.1
    write_run(tmp_path / "by_record", rows)
    assert audit(tmp_path / "by_record")["cells"]["toy/judge"]["blind_accuracy"] > 0.7


def test_a_leak_across_objects_is_flagged_with_objects_named(tmp_path):
    """Grouping by objects does not hide what the text gives away across them."""
    rng = np.random.default_rng(8)
    rows = judge_rows(rng, leak=True)
    objects = [(f"scene{i % 7}", (i % 40, 100 + i % 40)) for i in range(len(rows))]
    write_run(tmp_path, rows, objects=objects)
    cell = audit(tmp_path)["cells"]["toy/judge"]
    assert cell["flagged"] and cell["blind_accuracy"] > 0.65


def test_what_is_not_a_run_output_is_one_clear_error_naming_it(tmp_path):
    """A missing folder, a folder without InternVL shards, and records without their meta (a
    --strip-meta run) each name the path (and line) and say what the audit needs."""
    with pytest.raises(InputError, match="no such folder"):
        audit(tmp_path / "missing")
    with pytest.raises(InputError, match=r"no InternVL shards .* --format internvl or all"):
        audit(tmp_path)
    write_run(tmp_path / "stripped", judge_rows(np.random.default_rng(0), leak=False, n=4))
    shard = tmp_path / "stripped" / "internvl" / "synthetic" / "s.jsonl"
    lines = shard.read_text().splitlines()
    lines[2] = json.dumps({k: v for k, v in json.loads(lines[2]).items() if k != "meta"})
    shard.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"s\.jsonl:3: not a qagen InternVL record with its meta .*--strip-meta"):
        audit(tmp_path / "stripped")
