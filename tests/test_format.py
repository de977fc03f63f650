"""Formatting by unit: what tiles show, and the sign st.metric reads to choose its arrow."""

import pytest

from kpis import format as fmt
from kpis.registry import Unit


@pytest.mark.parametrize(
    "value, unit, compact, expected",
    [
        (None, Unit.CURRENCY, False, "—"),
        (1234.5, Unit.CURRENCY, False, "1,234 €"),  # ≥ 1000: no cents ("1,234" rounds half to even)
        (12.345, Unit.CURRENCY, False, "12.35 €"),
        (678_456.0, Unit.CURRENCY, True, "678.5k €"),
        (2_400_000.0, Unit.CURRENCY, True, "2.4M €"),
        (0.4215, Unit.PERCENT, False, "42.1 %"),  # 42.15 → 42.1 (binary rounding of 42.15)
        (5724, Unit.COUNT, False, "5,724"),
        (54.2, Unit.SCORE, False, "+54"),
        (2.456, Unit.SCORE, False, "2.46"),
        (3.0, Unit.MONTHS, False, "3.0 months"),
    ],
)
def test_values(value, unit, compact, expected):
    assert fmt.value(value, unit, "EUR", compact) == expected


@pytest.mark.parametrize(
    "change, unit, expected",
    [
        (-4.87, Unit.CURRENCY, "-4.87 €"),  # ASCII minus, so st.metric draws a falling arrow
        (93576.0, Unit.CURRENCY, "+93,576 €"),
        (0.014, Unit.PERCENT, "+1.4 pts"),
        (-0.002, Unit.PERCENT, "-0.2 pts"),
        (-117, Unit.COUNT, "-117"),
        (None, Unit.COUNT, None),
    ],
)
def test_deltas(change, unit, expected):
    assert fmt.delta(change, unit, "EUR") == expected


def test_dollars_come_first():
    assert fmt.money(1234.5, "USD", 2) == "$1,234.50"
