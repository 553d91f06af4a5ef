import contextlib
import doctest
import random
import string

import pytest

from certificates import identifier
from certificates.errors import MalformedIdentifierError

# Real-shaped identifiers as published in national e-certificate specifications and integrations.
REAL = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


def test_doctests_of_identifier_module_pass():
    result = doctest.testmod(identifier, raise_on_error=False)
    assert result.attempted > 10
    assert result.failed == 0


def test_doctests_of_waivers_and_model_pass():
    from certificates import model, waivers

    for module in (waivers, model):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("value", REAL)
def test_real_shaped_identifiers_parse_and_rebuild(value):
    parsed = identifier.parse(value)
    assert str(parsed) == value
    assert identifier.build(parsed.type_code, parsed.issuer_code, parsed.serial, parsed.version) == value


@pytest.mark.parametrize("value", REAL)
def test_every_single_character_substitution_is_caught(value):
    head, _, tail = value.rpartition(".")
    payload_start = len(identifier.ROOT) + 1
    alphabet = string.digits + string.ascii_uppercase
    for position in range(payload_start, len(head)):
        if head[position] == ".":
            continue
        for replacement in alphabet:
            if replacement == head[position]:
                continue
            changed = head[:position] + replacement + head[position + 1 :] + "." + tail
            assert not identifier.is_valid(changed) or changed == value


@pytest.mark.parametrize(
    "junk",
    [
        None,
        12345,
        b"1.2.156.3005.2",
        "",
        "   ",
        "1.2.156.3005.2",
        "1.2.156.3005.2.....",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S.X",
        "1.2.156.3005.2.11100000000013338W11.11430000006122244L.20230000403.002.S",  # type code short
        "1.2.156.3005.2.11100000000013338W011.1143000000612224IL.20230000403.002.S",  # I not in USCC
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023-0403.002.S",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.02.S",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.SS",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.*",
        "1.2.156.3005.2.１１100000000013338W011.11430000006122244L.20230000403.002.S",  # full-width
        "1.2.156.3005.2." + "A" * 5000,
    ],
)
def test_junk_is_rejected_with_a_reason_never_another_exception(junk):
    with pytest.raises(MalformedIdentifierError) as info:
        identifier.parse(junk)
    assert str(info.value)
    assert identifier.is_valid(junk) is False


def test_random_junk_never_raises_anything_else():
    rng = random.Random(36904)
    alphabet = string.printable + "中证照．。"
    for _ in range(2000):
        text = "1.2.156.3005.2." + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        with contextlib.suppress(MalformedIdentifierError):
            identifier.parse(text)


def test_lower_case_and_blanks_are_normalised():
    assert identifier.validate("  " + REAL[0].lower() + "\n") == REAL[0]


def test_build_rejects_bad_parts():
    with pytest.raises(MalformedIdentifierError, match="version"):
        identifier.build("11100000000013338W011", "11430000006122244L", "1", "1")
    with pytest.raises(MalformedIdentifierError, match="issuer"):
        identifier.build("11100000000013338W011", "short", "1")
