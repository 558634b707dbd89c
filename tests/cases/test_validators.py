"""Petitioner identity data (validators.py).

A petition states the petitioner's name and address (条例第19条) and the case record keeps the
resident ID and phone so the organ can notify them; the ID is the 18-digit GB 11643 number with
its check digit. Personal data is masked wherever the full value is not needed (PIPL, REGULATION §8).

The valid numbers below are the published GB 11643 examples, not numbers computed by the code
under test, so a wrong weight table or check-character table fails here.
"""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from xinfang.cases.validators import id_check_digit, mask_id_number, mask_phone, validate_id_number, validate_phone

GB_EXAMPLE_X = "11010519491231002X"  # the standard's example whose check character is X
GB_EXAMPLE = "440524188001010014"  # the standard's example with a digit check character (born 1880)


def _code(value: str, fn=validate_id_number) -> str:
    with pytest.raises(ValidationError) as info:
        fn(value)
    (message,) = info.value.messages
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # a Chinese message for the form
    return info.value.code


# --------------------------------------------------------------------------- resident ID (第19条)


@pytest.mark.parametrize("value", [GB_EXAMPLE_X, "110101199003074477"])
def test_published_id_numbers_are_accepted_art19(value):
    assert validate_id_number(value) == value


def test_check_digit_matches_the_published_examples_art19():
    assert id_check_digit(GB_EXAMPLE_X[:17]) == "X"
    assert id_check_digit(GB_EXAMPLE[:17]) == "4"


def test_id_number_is_trimmed_and_x_upper_cased_art19():
    assert validate_id_number(" 11010519491231002x ") == GB_EXAMPLE_X


@pytest.mark.parametrize("wrong_check", ["110105194912310021", "110105194912310020", "110101199003074470"])
def test_id_number_with_a_wrong_check_digit_is_refused_art19(wrong_check):
    assert _code(wrong_check) == "id_checksum"


@pytest.mark.parametrize("value", ["", "11010519491231002", "1101051949123100211", "11010519491231002Y",
                                   "X10105194912310021", "110105 19491231002"])
def test_id_number_of_the_wrong_shape_is_refused_art19(value):
    assert _code(value) == "id_format"


@pytest.mark.parametrize("value", [
    "110101199013070015",  # month 13
    "110101202602300012",  # 30 February
    "110101189912310013",  # before 1900
    GB_EXAMPLE,  # a valid checksum, but born 1880: no living petitioner
    "110101202606020018",  # the day after today (time is frozen at 2026-06-01)
])
def test_id_number_with_an_impossible_birth_date_is_refused_art19(value):
    # The birth date is checked before the check digit, so these fail on the date even when the
    # check character happens to be right.
    assert _code(value) == "id_birth"


def test_id_number_born_today_is_accepted_art19():
    # Born 2026-06-01 (frozen today); check digit 2 per GB 11643.
    assert validate_id_number("110101202606010012") == "110101202606010012"


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize("raw, clean", [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("020-83123456", "020-83123456"),
    ("(020)83123456", "02083123456"),
    ("(0755)8312345", "07558312345"),
    ("0371-6512345-808", "0371-6512345-808"),
    ("83123456", "83123456"),
    ("", ""),
])
def test_phone_numbers_are_normalised(raw, clean):
    assert validate_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "abc", "+86 13800138000", "020-123"])
def test_bad_phone_numbers_are_refused(raw):
    assert _code(raw, validate_phone) == "phone"


# --------------------------------------------------------------------------- masking (PIPL)


def test_masking_keeps_only_the_ends():
    assert mask_id_number(GB_EXAMPLE_X) == "1101**********002X"
    assert mask_phone("13800138000") == "138****8000"
    # Too short to mask meaningfully: shown as entered (nothing sensitive is derived from it).
    assert mask_id_number("1234") == "1234"
    assert mask_phone("83123456") == "83123456"
