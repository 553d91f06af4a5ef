import doctest
import random

import pytest

import masking.keyed
import masking.rules
from masking import KINDS, MASK_CHAR, MaskKind, UnknownMaskKindError, mask

# What each rule may show at most (leading, trailing characters of the normalised value).
KEEPS = {
    "name": (1, 0),
    "id_number": (1, 2),
    "mobile": (3, 4),
    "fixed_phone": (4, 2),
    "password": (0, 0),
}


def test_doctests_pass():
    assert doctest.testmod(masking.rules).failed == 0
    assert doctest.testmod(masking.keyed).failed == 0


def test_kinds_are_the_contract_names():
    assert {
        "name",
        "id_number",
        "mobile",
        "fixed_phone",
        "address",
        "email",
        "bank_card",
        "password",
    } == KINDS
    assert mask("13812345678", MaskKind.MOBILE) == "138****5678"


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("张三", "name", "张*"),
        ("张", "name", "*"),
        ("欧阳娜娜", "name", "欧***"),
        ("司马相如", "name", "司***"),
        ("买买提·艾力", "name", "买*****"),
        ("  李四  ", "name", "李*"),
        ("420106199001011234", "id_number", "4***************34"),
        ("42010619900101123x", "id_number", "4***************3x"),
        ("４２０１０６１９９００１０１１２３Ｘ", "id_number", "4***************3X"),
        ("420106 1990 0101 1234", "id_number", "4***************34"),
        ("123", "id_number", "***"),
        ("1234", "id_number", "1*34"),
        ("13812345678", "mobile", "138****5678"),
        ("138-1234-5678", "mobile", "138****5678"),
        ("1381234", "mobile", "*******"),
        ("13812345", "mobile", "138*2345"),
        ("027-87654321", "fixed_phone", "027-******21"),
        ("02787654321", "fixed_phone", "0278*****21"),
        ("123456", "fixed_phone", "******"),
        ("湖北省武汉市洪山区珞喻路1037号", "address", "湖北省武汉市洪山区********"),
        ("武汉市洪山区", "address", "******"),
        ("湖北省武汉市洪山区", "address", "湖********"),
        ("zhangsan@example.com", "email", "z*******@example.com"),
        ("a@example.com", "email", "*@example.com"),
        ("no-at-sign", "email", "**********"),
        ("@example.com", "email", "************"),
        ("user@", "email", "*****"),
        ("a@b@example.com", "email", "a**@example.com"),
        ("6222021234567890123", "bank_card", "6222 **** **** **** 123"),
        ("6222 0212 3456 7890", "bank_card", "6222 **** **** 7890"),
        ("622202123", "bank_card", "6222 **** 3"),
        ("6222021234", "bank_card", "6222 **** 34"),
        ("12345678", "bank_card", "********"),
        ("secret", "password", "******"),
        ("p", "password", "*"),
    ],
)
def test_rules(value, kind, expected):
    assert mask(value, kind) == expected


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", "\t\n"])
def test_blank_values_give_empty_string(kind, blank):
    assert mask(blank, kind) == ""


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_non_string_values_are_masked_not_rejected(kind):
    assert mask(13812345678, kind) != "13812345678"


def test_unknown_kind_is_a_configuration_error_naming_no_value():
    with pytest.raises(UnknownMaskKindError) as info:
        mask("420106199001011234", "ssn")
    assert "420106199001011234" not in str(info.value)
    assert info.value.code == "masking.unknown_kind"


_ALPHABET = "0123456789Xx-@. ·•張张欧阳ａＢ１２３\u3000\u200b\t湖北省é\u0301😀"


def _junk(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 30)))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_never_returns_a_value_unmasked(kind):
    rng = random.Random(4)
    for _ in range(3000):
        value = _junk(rng)
        masked = mask(value, kind)
        normalised = masking.rules.normalise(value)
        if not normalised:
            assert masked == ""
            continue
        assert isinstance(masked, str)
        if masked == "":  # only separators (hyphens, invisible characters) were given
            assert not any(ch.isalnum() for ch in normalised)
            continue
        assert MASK_CHAR in masked or set(normalised) == {MASK_CHAR}
        assert masked != normalised or set(normalised) <= {MASK_CHAR}
        assert masked != value.strip() or set(value.strip()) <= {MASK_CHAR}


@pytest.mark.parametrize("kind", sorted(KEEPS))
def test_shows_no_more_than_the_rule_keeps(kind):
    front, back = KEEPS[kind]
    rng = random.Random(7)
    for _ in range(3000):
        value = _junk(rng)
        masked = mask(value, kind)
        visible = sum(1 for ch in masked if ch != MASK_CHAR)
        assert visible <= front + back


def test_bank_card_shows_at_most_first_four_and_last_four():
    rng = random.Random(1)
    for _ in range(500):
        card = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 25)))
        masked = mask(card, "bank_card")
        visible = [ch for ch in masked if ch not in (MASK_CHAR, " ")]
        assert len(visible) <= 8
        if len(card) > 0:
            assert len(visible) < len(card)


def test_email_never_shows_more_than_one_local_character():
    rng = random.Random(2)
    for _ in range(1000):
        local = "".join(rng.choice("abcdef._+") for _ in range(rng.randint(0, 12)))
        masked = mask(f"{local}@example.org", "email")
        shown_local = masked.rpartition("@")[0]
        assert sum(1 for ch in shown_local if ch != MASK_CHAR) <= 1
