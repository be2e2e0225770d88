import math

import pytest

from motion_lora.checks import check_number


@pytest.mark.parametrize("value", [True, None, "3", math.nan, math.inf, [1]])
def test_not_a_number_is_refused_with_the_name(value):
    with pytest.raises(ValueError, match="strength must be a finite number"):
        check_number(value, "strength")


def test_bounds_are_inclusive_and_above_is_exclusive():
    assert check_number(2, "x", low=2, high=2) == 2
    with pytest.raises(ValueError, match="between 0 and 1"):
        check_number(1.5, "x", low=0, high=1)
    with pytest.raises(ValueError, match="> 0"):
        check_number(0, "x", above=0)
    assert check_number(1e-9, "x", above=0) == 1e-9


def test_whole_numbers_accept_integral_floats_and_return_int():
    value = check_number(3.0, "steps", whole=True, low=1)
    assert value == 3 and isinstance(value, int)
    with pytest.raises(ValueError, match="steps must be a whole number >= 1"):
        check_number(2.5, "steps", whole=True, low=1)
    with pytest.raises(ValueError, match="whole number"):
        check_number(0, "steps", whole=True, low=1)
