"""Four worker processes, each with its own engine, append at once: one gapless chain that verifies."""

import asyncio
import itertools
import multiprocessing

import pytest

from audit import AuditLog, load_signing_key
from audit.models import records_table

WORKERS = 4
PER_WORKER = 150


def _worker(url, seed, barrier, worker, h_make_event, h_make_engine):
    async def run():
        engine = h_make_engine(url)
        log = AuditLog(engine, signing_key=load_signing_key(seed), checkpoint_every=100)
        barrier.wait()
        for start in range(0, PER_WORKER, 30):
            # 30 concurrent appenders per process, so group commit batches inside each process too.
            await asyncio.gather(
                *(log.append(h_make_event(worker * 1000 + i)) for i in range(start, start + 30))
            )
        await log.aclose()
        engine.dispose()

    asyncio.run(run())


@pytest.mark.slow
def test_four_processes_leave_one_gapless_chain(db, h):
    from cryptography.hazmat.primitives import serialization

    from audit import generate_signing_key

    key = generate_signing_key()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS)
    db.engine.dispose()  # no pooled connection may cross the fork
    processes = [
        context.Process(target=_worker, args=(db.url, seed, barrier, n, h.make_event, h.make_test_engine))
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * WORKERS

    with db.engine.connect() as connection:
        seqs = [
            row[0]
            for row in connection.execute(records_table.select().with_only_columns(records_table.c.seq))
        ]
        ordered = connection.execute(
            records_table.select().with_only_columns(records_table.c.request_id).order_by(records_table.c.seq)
        ).all()
    request_ids = {row[0] for row in ordered}
    writers = [int(row[0].removeprefix("req-")) // 1000 for row in ordered]
    switches = sum(1 for a, b in itertools.pairwise(writers) if a != b)
    assert switches > WORKERS  # the workers really did interleave
    assert sorted(seqs) == list(range(1, WORKERS * PER_WORKER + 1))
    assert len(request_ids) == WORKERS * PER_WORKER  # every worker's every record, once
    result = asyncio.run(AuditLog(db.engine, public_keys=[key.public_key()]).verify())
    assert result.ok and result.records == WORKERS * PER_WORKER and result.checkpoints >= 5
