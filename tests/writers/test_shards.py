"""Atomic per-scene shards: exact bytes, rejected lines counted, nothing final after a failure, resume."""
import json

import pytest

from qagen.render.record import QA
from qagen.writers import InternVLWriter, ShardInfo, ShardWriter, ShareGPTWriter, read_shard_info, \
    shard_is_complete, shard_path


def make_qa(number, question="Wie weit ist der Stuhl vom Tisch entfernt?", images=("scene0000_00/color/0.jpg",)):
    return QA(id=f"scannet/scene0000_00/distance_prediction_oo/fill/{number:06d}", task="distance_prediction_oo",
              format="fill", source="scannet", scene="scene0000_00", question=question, answer="1,2 m",
              images=images, meta={"task": "distance_prediction_oo", "seed": number})


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "data"
    (root / "scene0000_00" / "color").mkdir(parents=True)
    (root / "scene0000_00" / "color" / "0.jpg").write_bytes(b"jpg")
    return root


def test_shard_lines_are_compact_sorted_utf8_in_record_order(tmp_path):
    out = tmp_path / "out"
    with ShardWriter(out, ShareGPTWriter(), "scannet", "scene0000_00") as shard:
        assert shard.write(make_qa(1, question="Entfernung Stuhl–Tisch?"))
        assert shard.write(make_qa(2))
    path = out / "sharegpt" / "scannet" / "scene0000_00.jsonl"
    assert shard.path == path
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        '{"conversations":[{"from":"human","value":"<image>\\nEntfernung Stuhl–Tisch?"},'
        '{"from":"gpt","value":"1,2 m"}],"id":"scannet/scene0000_00/distance_prediction_oo/fill/000001",'
        '"images":["scene0000_00/color/0.jpg"],"meta":"{\\"seed\\":1,\\"task\\":\\"distance_prediction_oo\\"}"}')
    assert [json.loads(line)["id"][-6:] for line in path.read_text().splitlines()] == ["000001", "000002"]
    assert shard.info == ShardInfo(path, "scannet", "scene0000_00", 2,
                                   frozenset({"id", "conversations", "images", "meta"}))


def test_invalid_lines_are_not_written_and_are_counted_by_reason(tmp_path, data_root):
    out = tmp_path / "out"
    with ShardWriter(out, InternVLWriter(data_root=data_root), "scannet", "scene0000_00") as shard:
        assert shard.write(make_qa(1))
        assert not shard.write(make_qa(2, images=("scene0000_00/color/404.jpg",)))
        assert not shard.write(make_qa(3, question="<image> twice"))
        assert not shard.write(make_qa(4, images=("scene0000_00/color/405.jpg",)))
        assert shard.write(make_qa(5))
    assert shard.rejected == {"missing_image": 2, "image_placeholders": 1}
    assert shard.count == 2
    lines = shard.path.read_text().splitlines()
    assert [json.loads(line)["meta"]["seed"] for line in lines] == [1, 5]


def test_lines_stream_to_the_temporary_file_until_close(tmp_path):
    out = tmp_path / "out"
    with ShardWriter(out, ShareGPTWriter(), "scannet", "scene0000_00") as shard:
        shard.write(make_qa(1))
        assert shard.tmp_path == out / "sharegpt" / "scannet" / ".scene0000_00.jsonl.tmp"
        assert shard.tmp_path.exists() and not shard.path.exists()
        assert not shard_is_complete(shard.path)
    assert shard_is_complete(shard.path) and not shard.tmp_path.exists()


def test_exception_mid_write_leaves_no_file_and_keeps_an_older_complete_shard(tmp_path):
    out = tmp_path / "out"
    writer = ShareGPTWriter()
    with pytest.raises(RuntimeError, match="worker died"):
        with ShardWriter(out, writer, "scannet", "scene0000_00") as shard:
            shard.write(make_qa(1))
            raise RuntimeError("worker died")
    assert list((out / "sharegpt" / "scannet").iterdir()) == []
    assert not shard_is_complete(shard.path)

    with ShardWriter(out, writer, "scannet", "scene0000_00") as shard:
        shard.write(make_qa(1))
        shard.write(make_qa(2))
    before = shard.path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with ShardWriter(out, writer, "scannet", "scene0000_00") as again:
            again.write(make_qa(3))
            raise KeyboardInterrupt
    assert shard.path.read_bytes() == before
    assert sorted(p.name for p in (out / "sharegpt" / "scannet").iterdir()) == ["scene0000_00.jsonl"]


def test_resume_detection(tmp_path):
    path = shard_path(tmp_path, "internvl", "scannet", "scene0000_00")
    assert path == tmp_path / "internvl" / "scannet" / "scene0000_00.jsonl"
    assert not shard_is_complete(path)
    path.parent.mkdir(parents=True)
    path.write_text('{"id":1}\n{"id":2')
    assert not shard_is_complete(path)
    path.write_text("")
    assert shard_is_complete(path)
    with ShardWriter(tmp_path, InternVLWriter(strip_meta=True), "scannet", "scene0000_00") as shard:
        for n in range(3):
            shard.write(make_qa(n, images=()))
    assert shard_is_complete(path)
    assert read_shard_info(path, "scannet", "scene0000_00") == ShardInfo(
        path, "scannet", "scene0000_00", 3, frozenset({"id", "conversations", "type"}))


@pytest.mark.parametrize("scene", ["", "a/b", "..", ".hidden"])
def test_names_that_are_not_one_plain_path_part_are_refused(tmp_path, scene):
    with pytest.raises(ValueError, match="cannot name"):
        ShardWriter(tmp_path, ShareGPTWriter(), "scannet", scene)
