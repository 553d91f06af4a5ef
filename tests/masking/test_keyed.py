import pytest

from masking import normalise_identifier, pseudonym

KEY = b"k" * 32


def test_pseudonym_is_stable_under_normalisation():
    base = pseudonym("42010619900101123X", KEY)
    variants = [
        "42010619900101123x",
        " 42010619900101123X\n",
        "４２０１０６１９９００１０１１２３Ｘ",
        "420106 19900101 123X",
    ]
    for variant in variants:
        assert pseudonym(variant, KEY) == base


def test_pseudonym_depends_on_key_and_identifier():
    assert pseudonym("42010619900101123X", KEY) != pseudonym("42010619900101123X", b"j" * 32)
    assert pseudonym("42010619900101123X", KEY) != pseudonym("420106199001011234", KEY)


def test_pseudonym_is_hex_sha256_and_hides_the_identifier():
    value = pseudonym("420106199001011234", KEY)
    assert len(value) == 64
    int(value, 16)
    assert "420106" not in value


def test_pseudonym_rejects_empty_identifier_and_short_key_without_naming_values():
    with pytest.raises(ValueError):
        pseudonym("  ", KEY)
    with pytest.raises(ValueError) as info:
        pseudonym("420106199001011234", b"short")
    assert "420106199001011234" not in str(info.value)


def test_normalise_identifier():
    assert normalise_identifier("\u200b42010619900101123ｘ ") == "42010619900101123X"
