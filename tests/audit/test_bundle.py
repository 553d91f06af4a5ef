"""Export bundles verify offline with only the public key, and tampering with them is caught."""

import asyncio
import io
import json

from audit import AuditLog, generate_signing_key, public_key_bytes, verify_bundle
from audit.chain import record_document, record_hash


def export_lines(db, signing_key, clock, h, count=20):
    async def scenario():
        log = AuditLog(db.engine, signing_key=signing_key, clock=clock, checkpoint_every=8)
        for start in range(0, count, 5):
            await log.append_many([h.make_event(i) for i in range(start, start + 5)])
        out = io.StringIO()
        written = await log.export(out, actor=h.AUDITOR, request_id="exp-1")
        await log.aclose()
        return out.getvalue().splitlines(), written

    lines, written = asyncio.run(scenario())
    assert written == len(lines)
    return lines


def records_of(lines):
    return [i for i, line in enumerate(lines) if json.loads(line)["type"] == "record"]


def test_bundle_verifies_offline_with_the_public_key(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds[0] == "header" and kinds[-1] == "end"
    assert kinds.index("record") > kinds.index("checkpoint")
    result = verify_bundle(lines, public_key_bytes(signing_key))
    # 20 events, plus the export's own record; the export's checkpoint anchors all of them.
    assert result.ok and result.records == 21 and result.anchored_seq == 21
    assert verify_bundle([line.encode() for line in lines], signing_key.public_key()).ok
    header = json.loads(lines[0])
    assert header["public_keys"][0]["key_id"]
    assert "420106199001011234" not in "\n".join(lines)


def test_bundle_with_another_key_fails(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    result = verify_bundle(lines, generate_signing_key().public_key())
    assert not result.ok and "unknown key" in result.reason


def _edit(lines, index, **changes):
    item = json.loads(lines[index])
    item.update(changes)
    return [*lines[:index], json.dumps(item, ensure_ascii=False), *lines[index + 1 :]]


def test_modified_record_line(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    index = records_of(lines)[6]
    result = verify_bundle(_edit(lines, index, outcome="denied"), signing_key.public_key())
    assert not result.ok and result.first_bad_seq == 7


def test_deleted_record_line(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    index = records_of(lines)[9]
    result = verify_bundle(lines[:index] + lines[index + 1 :], signing_key.public_key())
    assert not result.ok and result.first_bad_seq == 10


def test_reordered_record_lines(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    i, j = records_of(lines)[2:4]
    swapped = list(lines)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    result = verify_bundle(swapped, signing_key.public_key())
    assert not result.ok and result.first_bad_seq == 3


def test_inserted_record_line(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    index = records_of(lines)[4]
    result = verify_bundle([*lines[:index], lines[index - 2], *lines[index:]], signing_key.public_key())
    assert not result.ok and result.first_bad_seq == 5


def test_rewritten_bundle_is_caught_by_checkpoints(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    indexes = records_of(lines)
    items = [json.loads(lines[i]) for i in indexes]
    items[12]["outcome"] = "denied"  # seq 13, after the checkpoint at 10
    previous = items[9]["hash"]
    for item in items[10:]:
        item["prev_hash"] = previous
        item["hash"] = previous = record_hash(previous, record_document(item))
    forged = list(lines)
    for i, item in zip(indexes, items, strict=True):
        forged[i] = json.dumps(item)
    result = verify_bundle(forged, signing_key.public_key())
    assert not result.ok and result.first_bad_seq == 11 and "checkpoint" in result.reason  # anchored at 10


def test_truncated_bundle(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    cut = records_of(lines)[15]
    result = verify_bundle(lines[:cut], signing_key.public_key())
    assert not result.ok and result.first_bad_seq == 16 and "truncated" in result.reason
    no_end = verify_bundle(lines[:-1], signing_key.public_key())
    assert not no_end.ok and "ends early" in no_end.reason


def test_garbage_is_reported_not_raised(db, signing_key, clock, h):
    lines = export_lines(db, signing_key, clock, h)
    assert not verify_bundle([*lines[:3], "{not json", *lines[3:]], signing_key.public_key()).ok
    assert not verify_bundle(["{}"], signing_key.public_key()).ok
    assert not verify_bundle([], signing_key.public_key()).ok
