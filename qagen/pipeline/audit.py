"""Audit of a finished run: answer balance and text-only answerability per task x format.

For every task and question format with categorical answers (select letters, judge Yes/No, choice
colours, relation words) it reports the answer distribution and the accuracy of a blind learner
that sees only the question text (words, digits removed, and the options' order) — a naive Bayes
model trained on one half of the records and scored on the other (split by `group`: the questions
a scene asks about the same objects fall in one half, so the learner scores what carries over to
objects it has not seen, as in a dataset split by scene, not what remembering a scene gives). A
cell is flagged when the blind learner beats uniform chance by more than `tolerance` (default 5
points) with a margin larger than sampling noise, or when one answer is over-represented: both mean
a model could learn the answer without looking at the images. Select cells are also flagged when
some options are the truth far more or less often than 1/k of the times they are shown
(`option_spread`): a model that compares the options can learn that where the learner above,
which reads each option on its own, cannot.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from qagen.errors import InputError

WORD = re.compile(r"[a-z]+")
OPTION = re.compile(r"^([A-F])\. (.*)$", flags=re.M)
NUMBERS = re.compile(r"\[[^\]]*\]|\d+(?:\.\d+)?")  # coordinates and values: an option's words remain
# A select cell is flagged when the truth's share among the questions that show an option strays
# from 1/k by more than this many times what sampling noise gives (option_spread): options a
# text-only model could tell apart by which of them tends to be the truth.
OPTION_SPREAD_LIMIT = 3.0
# How often a fair cell with balanced answers (as qagen's are) is flagged by sampling noise alone,
# at most: its blind accuracy beating chance by two standard errors (one-sided normal tail).
NOISE_FLAG_RATE = 0.023


@dataclass(frozen=True)
class Sample:
    task: str
    format: str
    question: str
    answer: str
    classes: tuple[str, ...]  # every answer the question allows (letters shown, Yes/No, ...)
    test: bool  # held-out half
    group: str  # records of one group are all in one half (see `group`)
    options: Optional[dict] = None  # select: letter -> the option's words (numbers and coordinates removed)


def read_samples(out: Path) -> list[Sample]:
    """Categorical records of a run, from its InternVL shards (meta is an object there)."""
    out = Path(out)
    if not out.is_dir():
        raise InputError(out, "no such folder; audit reads the output folder of a `qagen generate` run")
    shards = sorted((out / "internvl").rglob("*.jsonl"))
    if not shards:
        raise InputError(out, "no InternVL shards (internvl/<source>/<scene>.jsonl) to audit; audit reads a "
                              "`qagen generate` output written with --format internvl or all")
    samples = []
    for shard in shards:
        for number, line in enumerate(shard.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                sample = to_sample(json.loads(line))
            except (ValueError, LookupError, TypeError, AttributeError) as exc:
                raise InputError(f"{shard}:{number}", "not a qagen InternVL record with its meta (audit needs a run "
                                                      f"without --strip-meta): {type(exc).__name__} {exc}") from None
            if sample is not None:
                samples.append(sample)
    return samples


def to_sample(record: dict) -> Sample | None:
    meta = record["meta"]
    question = record["conversations"][0]["value"]
    answer = record["conversations"][1]["value"].strip()
    fmt = meta["format"]
    worded = None
    if fmt == "select":
        worded = {letter: NUMBERS.sub("#", text).strip() for letter, text in OPTION.findall(question)}
        classes = tuple(worded)
    elif fmt == "judge":
        classes = ("Yes", "No")
    elif meta["answer"].get("kind") == "choice" and fmt == "fill":
        options = set(meta["answer"].get("options", []))
        classes = tuple(sorted({m["color"] for m in meta["markers"] if m["role"] in options}))
    else:
        return None
    if len(classes) < 2 or answer not in classes:  # not answered by a marker colour: no fixed classes
        return None
    key = group(record)
    held_out = int(hashlib.sha256(f"{meta['task']}/{fmt}/{key}".encode()).hexdigest(), 16) % 2 == 1
    return Sample(meta["task"], fmt, question, answer, classes, held_out, key, worded)


def group(record: dict) -> str:
    """The record's scene and the objects it names (the record's id when it names none): a scene
    asks about the same objects again from other frames or in other words, with the same answer
    or a related one, and a learner that saw one of them would score on the others by remembering
    the scene's facts, not from anything the text gives away."""
    meta = record["meta"]
    ids = sorted(o["id"] for o in meta.get("objects", []))
    return f"{meta.get('source')}/{meta.get('scene')}/{ids}" if ids else f"id:{record['id']}"


def features(sample: Sample) -> list[str]:
    text = re.sub(r"\[[\d,\s]+\]", " ", sample.question.lower())
    words = WORD.findall(text)
    feats = [f"w:{w}" for w in words]
    feats += [f"b:{a}_{b}" for a, b in zip(words, words[1:])]
    if sample.format == "select":  # option lines in order: the learner may exploit positions
        for letter, text in OPTION.findall(sample.question):
            feats += [f"o{letter}:{w}" for w in WORD.findall(text.lower())]
    return feats


class NaiveBayes:
    def __init__(self) -> None:
        self.class_counts: Counter = Counter()
        self.feature_counts: dict[str, Counter] = defaultdict(Counter)
        self.totals: Counter = Counter()
        self.vocabulary: set[str] = set()

    def fit(self, samples: Iterable[Sample]) -> "NaiveBayes":
        for s in samples:
            self.class_counts[s.answer] += 1
            for f in features(s):
                self.feature_counts[s.answer][f] += 1
                self.totals[s.answer] += 1
                self.vocabulary.add(f)
        return self

    def predict(self, sample: Sample) -> str:
        n, v = sum(self.class_counts.values()), len(self.vocabulary) + 1
        feats = features(sample)

        def score(c: str) -> float:
            prior = math.log((self.class_counts[c] + 1) / (n + len(sample.classes)))
            return prior + sum(math.log((self.feature_counts[c][f] + 1) / (self.totals[c] + v)) for f in feats)

        return max(sample.classes, key=score)


def audit_cell(samples: list[Sample], tolerance: float = 0.05, min_samples: int = 60) -> dict:
    train = [s for s in samples if not s.test]
    test = [s for s in samples if s.test]
    distribution = Counter(s.answer for s in samples)
    chance = sum(1 / len(s.classes) for s in samples) / len(samples)
    cell = {"records": len(samples), "answers": dict(sorted(distribution.items())), "chance": round(chance, 3)}
    top_share = max(distribution.values()) / len(samples)
    cell["top_answer_share"] = round(top_share, 3)
    if len(train) < min_samples // 2 or len(test) < min_samples // 2:
        cell["blind_accuracy"] = None
        cell["flagged"] = False
        cell["note"] = f"fewer than {min_samples} records: not judged"
        return cell
    model = NaiveBayes().fit(train)
    accuracy = sum(model.predict(s) == s.answer for s in test) / len(test)
    # two standard errors, counting each group once: a group's records are asked alike and mostly
    # guessed alike, so they are not independent draws
    noise = 2 * math.sqrt(chance * (1 - chance) / len({s.group for s in test}))
    cell["blind_accuracy"] = round(accuracy, 3)
    spread = option_spread(samples)
    if spread is not None:
        cell["option_spread"] = round(spread, 2)
    cell["flagged"] = bool(accuracy - chance > max(tolerance, noise)
                           or top_share - chance > max(tolerance, 2 * math.sqrt(chance * (1 - chance) / len(samples)))
                           or (spread or 0.0) > OPTION_SPREAD_LIMIT)
    return cell


def option_spread(samples: list[Sample]) -> float | None:
    """For select questions: sum over distinct options (by their words) of shown x (truth share -
    1/k)^2, over what it is when every option shown is the truth 1/k of the time (1 on average;
    sampling noise alone keeps it within about 1 +- 2 sqrt(2 / options)). Options a scene keeps
    asking about with one answer (the order a walk meets the same three objects in) raise it too.
    None for other formats."""
    shown: Counter = Counter()
    truths: Counter = Counter()
    for s in samples:
        if not s.options:
            return None
        k = len(s.options)
        for letter, words in s.options.items():
            shown[k, words] += 1
            truths[k, words] += letter == s.answer
    expected = sum((1 / k) * (1 - 1 / k) for k, _ in shown)
    observed = sum(n * (truths[key] / n - 1 / key[0]) ** 2 for key, n in shown.items())
    return observed / expected if expected else None


def audit(out: Path, tolerance: float = 0.05, min_samples: int = 60) -> dict:
    """Every cell's report, the cells flagged, and how many flags sampling noise alone would
    raise among the cells judged (a flagged cell is confirmed by a run with more records)."""
    cells: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in read_samples(out):
        cells[(s.task, s.format)].append(s)
    report = {f"{task}/{fmt}": audit_cell(samples, tolerance, min_samples) for (task, fmt), samples in sorted(cells.items())}
    judged = sum(cell["blind_accuracy"] is not None for cell in report.values())
    return {"tolerance": tolerance, "cells": report, "flagged": sorted(k for k, v in report.items() if v["flagged"]),
            "judged": judged, "flags_expected_from_noise": round(judged * NOISE_FLAG_RATE, 1)}
