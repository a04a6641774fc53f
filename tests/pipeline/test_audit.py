"""The audit flags answers a text-only learner can guess, and passes fair ones."""
from __future__ import annotations

import json

import numpy as np

from qagen.pipeline.audit import audit

LABELS = ["chair", "table", "lamp", "sofa", "cup", "plant"]


def write_run(out, rows, task="toy"):
    """rows: (question, answer, format) or (question, answer, format, task)."""
    shard = out / "internvl" / "synthetic" / "s.jsonl"
    shard.parent.mkdir(parents=True)
    with shard.open("w") as f:
        for i, (question, answer, fmt, *named) in enumerate(rows):
            name = named[0] if named else task
            record = {"id": i, "conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}],
                      "meta": {"task": name, "format": fmt, "template": f"{name}/{fmt}/0", "answer": {"kind": "bool"},
                               "markers": []}}
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
