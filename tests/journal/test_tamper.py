"""Tamper test on a chain of 5,000 records written through journal.record() (issue 4, acceptance 1).

1,000 single-field modifications, 1,000 deletions and 1,000 swaps of two records' contents are each detected,
at the right record; 10 clean runs raise no alarm; tail truncation and full re-chaining pass the chain check
(the attacker fixed the head) but are caught by a signed checkpoint.

Speed: verification is a left fold that stops at the first broken record, and every tampering below leaves the
records before its first touched index unchanged. So the fold's state there is the clean run's state, known
exactly (seq, previous hash); each tampered chain is verified from a few records before the first change to the
end, with that state as the start. A sample of each kind is also verified from the genesis record, with the
same verdict.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from iolaos.journal import checkpoint as cp_mod
from iolaos.journal.audit import GENESIS_HASH, ChainRow, VerifyResult, verify_rows
from tests.journal.chain_tools import Chain, modified, rechain, swapped_contents

TRIALS = 1_000
ROUNDS = 10  # one clean run after each round of 100 + 100 + 100 tamperings
FROM_GENESIS_EVERY = 40


def _verify(rows: list[ChainRow], first_touched: int, head: tuple[int, str], *, full: bool) -> VerifyResult:
    """Verify the tampered ``rows``, resuming from the clean state a few records before ``first_touched``."""
    k = 0 if full else max(0, first_touched - 3)
    start_seq, start_hash = (1, GENESIS_HASH) if k == 0 else (rows[k - 1].seq + 1, rows[k - 1].hash)
    return verify_rows(rows[k:], start_seq=start_seq, start_hash=start_hash, head=head)


def _clean_run(chain: Chain) -> None:
    result = verify_rows(chain.rows, head=chain.head, anchor=chain.head)
    assert result.ok and result.checked == len(chain.rows), f"false alarm: {result}"


def test_every_modification_deletion_and_swap_is_detected(chain5000: Chain):
    rows, head = chain5000.rows, chain5000.head
    original = list(rows)
    n = len(rows)
    rng = random.Random(20260714)
    fields = ChainRow._fields
    detected = {"modification": 0, "deletion": 0, "swap": 0}
    clean_runs = 0
    per_round = TRIALS // ROUNDS
    for _ in range(ROUNDS):
        for trial in range(per_round):
            full = trial % FROM_GENESIS_EVERY == 0

            i, field = rng.randrange(n), rng.choice(fields)
            tampered = list(rows)
            tampered[i] = modified(rows[i], field, rng)
            result = _verify(tampered, i, head, full=full)
            assert not result.ok and result.broken_seq == rows[i].seq, (field, i, result)
            detected["modification"] += 1

            i = rng.randrange(n)
            tampered = rows[:i] + rows[i + 1:]
            result = _verify(tampered, i, head, full=full)
            assert not result.ok and result.broken_seq == rows[i].seq, ("deletion", i, result)
            detected["deletion"] += 1

            i, j = sorted(rng.sample(range(n), 2))
            tampered = list(rows)
            if rng.random() < 0.5:  # exchange the contents, each keeping its place and seq
                tampered[i], tampered[j] = swapped_contents(rows[i], rows[j])
            else:  # exchange the rows outright
                tampered[i], tampered[j] = rows[j], rows[i]
            result = _verify(tampered, i, head, full=full)
            assert not result.ok and result.broken_seq == rows[i].seq, ("swap", i, j, result)
            detected["swap"] += 1
        _clean_run(chain5000)
        clean_runs += 1
    assert rows == original, "the tampering worked on copies"
    assert detected == {"modification": TRIALS, "deletion": TRIALS, "swap": TRIALS}
    assert clean_runs == ROUNDS


def test_clean_chain_from_the_database_raises_no_alarm(chain5000: Chain):
    from iolaos.db import make_engine, session_scope
    from iolaos.journal import service as journal

    engine = make_engine(chain5000.settings)
    snapshot = journal.snapshot_engine(engine)
    try:
        for _ in range(3):
            with session_scope(snapshot) as session:
                result = journal.verify_chain(session, anchor=chain5000.head)
            assert result.ok and result.checked == len(chain5000.rows), result
    finally:
        snapshot.dispose()
        engine.dispose()


def test_tail_truncation_is_caught_only_with_a_checkpoint(chain5000: Chain):
    rows, anchor = chain5000.rows, chain5000.head
    rng = random.Random(7)
    for keep in [0, 1, len(rows) - 1, *rng.sample(range(2, len(rows) - 1), 20)]:
        cut = rows[:keep]
        new_head = (cut[-1].seq, cut[-1].hash) if cut else (0, GENESIS_HASH)
        assert not verify_rows(cut, head=anchor).ok, "the stored head alone catches a careless truncation"
        assert verify_rows(cut, head=new_head).ok, "a truncation that also moved the head passes the chain check"
        result = verify_rows(cut, head=new_head, anchor=anchor)
        assert not result.ok and result.broken_seq == keep + 1 and "truncated" in (result.reason or ""), result


def test_full_rechaining_is_caught_only_with_a_checkpoint(chain5000: Chain):
    rows, anchor = chain5000.rows, chain5000.head
    rng = random.Random(8)
    for _ in range(10):
        i = rng.randrange(len(rows))
        forged = list(rows)
        forged[i] = forged[i]._replace(data='{"rewritten":true}')
        forged = rechain(forged, start=i)
        new_head = (forged[-1].seq, forged[-1].hash)
        assert verify_rows(forged, head=new_head).ok, "a recomputed chain is consistent in itself"
        result = verify_rows(forged, head=new_head, anchor=anchor)
        assert not result.ok and result.broken_seq == anchor[0] and "rewritten" in (result.reason or ""), result
        # An older checkpoint catches it too, as long as it covers the rewritten record ...
        c = rng.randrange(i, len(rows))
        older = (rows[c].seq, rows[c].hash)
        assert not verify_rows(forged, head=new_head, anchor=older).ok
        # ... while records after the newest checkpoint are protected by the chain alone.
        if i > 0:
            before = rng.randrange(i)
            assert verify_rows(forged, head=new_head, anchor=(rows[before].seq, rows[before].hash)).ok


def test_signed_checkpoint_of_the_chain(chain5000: Chain, tmp_path):
    key_path = tmp_path / "audit.key"
    cp_mod.generate_key(key_path)
    key = cp_mod.load_private_key(key_path)
    signed = cp_mod.sign(seq=chain5000.head[0], head_hash=chain5000.head[1], epoch=chain5000.epoch, key=key)
    cp_mod.write_checkpoint(signed, tmp_path / "cp.json")
    back = cp_mod.read_checkpoint(tmp_path / "cp.json")
    assert back == signed
    public = cp_mod.load_public_key(cp_mod.public_key_path(key_path))
    assert cp_mod.fingerprint(cp_mod.verify_signature(back, public)) == cp_mod.fingerprint(public)
    assert verify_rows(chain5000.rows, head=chain5000.head, anchor=(back.seq, back.head_hash)).ok
    # Moving the checkpoint back (to hide a truncation) or forging its hash breaks its signature.
    for forged in (replace(back, seq=back.seq - 1), replace(back, head_hash=chain5000.rows[-2].hash)):
        with pytest.raises(cp_mod.SignatureError):
            cp_mod.verify_signature(forged, public)
        with pytest.raises(cp_mod.SignatureError):
            cp_mod.verify_signature(forged)
    # A forger re-signing with their own key passes the embedded-key check, but not the real public key.
    resigned = cp_mod.sign(seq=back.seq - 1, head_hash=chain5000.rows[-2].hash, epoch=back.epoch,
                           key=Ed25519PrivateKey.generate())
    cp_mod.verify_signature(resigned)
    with pytest.raises(cp_mod.SignatureError, match="signed with key"):
        cp_mod.verify_signature(resigned, public)

