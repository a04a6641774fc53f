"""shareGPT lines for LLaMA-Factory whose box answers follow Qwen-VL's grounding convention.

The convention (QwenLM's Qwen2.5-VL/Qwen3-VL finetuning notes, grounding cookbook and issues
#733/#1137): grounding is trained without special tokens; the assistant answers with JSON, one
object `{"bbox_2d": [x1, y1, x2, y2], "label": "chair"}` per box (a list of them for several).
Qwen3-VL and Qwen2-VL read the coordinates as 0-1000 of the image's width and height, which is
what qagen's boxes are. Qwen2.5-VL reads absolute pixels of the image after its own resize; for
Qwen2.5-VL the boxes would have to be rescaled to that size, which this writer does not do.

What changes against `sharegpt`: a record whose answer is a box (meta.answer.kind "box") and
whose answer text is that box spelled out (the fill format) answers with the JSON object
instead, labelled with the answer's `label` or else the label of object `a`. Its question must
state the answer form as `[x1, y1, x2, y2]`; that is rewritten to the JSON form, so the prompt
asks for what the answer gives. A box record that cannot be rewritten (no such phrase, no label)
is refused (reasons `qwen_prompt`, `qwen_label`). Select answers stay a letter and sentences
keep their words. Everything else, dataset_info.json included, is the shareGPT writer's.
"""
from __future__ import annotations

import json
from dataclasses import replace

from qagen.render.record import QA
from qagen.writers.base import InvalidLine
from qagen.writers.sharegpt import ShareGPTWriter

BOX_FORM = "[x1, y1, x2, y2]"


def box_label(qa: QA) -> str:
    """The label a Qwen box answer carries: the answer's own, else object `a`'s."""
    answer = qa.meta.get("answer", {})
    if answer.get("label"):
        return str(answer["label"])
    labels = [o.get("label") for o in qa.meta.get("objects", []) if o.get("role") == "a"]
    if not labels or not labels[0]:
        raise InvalidLine(qa.id, "qwen_label", "a Qwen box answer needs the object's label")
    return str(labels[0])


def qwen_box(box, label: str) -> str:
    """`{"bbox_2d": [x1, y1, x2, y2], "label": ...}` as Qwen-VL's grounding data writes it."""
    return json.dumps({"bbox_2d": [int(v) for v in box], "label": label}, ensure_ascii=False)


def is_spelled_box(qa: QA) -> bool:
    """True when the answer text is exactly the box of meta.answer (a fill answer)."""
    answer = qa.meta.get("answer", {})
    if answer.get("kind") != "box":
        return False
    try:
        return [int(v) for v in json.loads(qa.answer)] == [int(v) for v in answer["value"]]
    except (ValueError, TypeError, KeyError):
        return False


def with_qwen_box(qa: QA) -> QA:
    """The record with its spelled box answer in Qwen-VL's JSON form (others unchanged)."""
    if not is_spelled_box(qa):
        return qa
    if BOX_FORM not in qa.question:
        raise InvalidLine(qa.id, "qwen_prompt", f"the question does not state the answer form {BOX_FORM}")
    label = box_label(qa)
    form = '{"bbox_2d": ' + BOX_FORM + ', "label": ' + json.dumps(label, ensure_ascii=False) + "}"
    return replace(qa, question=qa.question.replace(BOX_FORM, form), answer=qwen_box(qa.meta["answer"]["value"], label))


class QwenWriter(ShareGPTWriter):
    name = "qwen"

    def encode(self, qa: QA) -> dict:
        return super().encode(with_qwen_box(qa))

    def validate(self, line: dict, qa: QA) -> None:
        super().validate(line, qa)
        if not is_spelled_box(qa):
            return
        answer = line[self.style.messages][1][self.style.content]
        parsed = json.loads(answer)
        box = parsed.get("bbox_2d") if isinstance(parsed, dict) else None
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) and 0 <= v <= 1000 for v in box)
                and box[0] <= box[2] and box[1] <= box[3]):
            raise InvalidLine(qa.id, "qwen_box", f"{answer} is not a 0-1000 bbox_2d")
