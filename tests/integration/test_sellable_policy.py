"""The sellable-quantity policy as the contract defines it (native/sql, block
[sellable-policy]): stock_relay_sellable and stock_relay_kit_sellable. These
are the cases the C++ policy::sellable was proven by (tests/unit/policy_test.cpp
before issue 15), now run against the one definition every commit path uses."""
from __future__ import annotations

import math

import psycopg2
import psycopg2.errors
import pytest

NO_CAP = None


def sellable(db, on_hand, reserved, buffer=0.0, cap=NO_CAP):
    return db.scalar("SELECT stock_relay_sellable(%s::float8, %s::float8, %s::float8, %s::bigint)",
                     (on_hand, reserved, buffer, cap))


def kit(db, components, buffer=0.0, cap=NO_CAP):
    """components: [(on_hand, reserved, per_kit)]"""
    on_hand, reserved, per_kit = (list(c) for c in zip(*components)) if components else ([], [], [])
    return db.scalar("SELECT stock_relay_kit_sellable(%s::float8[], %s::float8[], %s::float8[], %s::float8, %s::bigint)",
                     (on_hand, reserved, per_kit, buffer, cap))


def rejects(db, sql, params, words):
    with pytest.raises(psycopg2.errors.InvalidParameterValue) as err:
        db.scalar(sql, params)
    assert words in str(err.value), err.value


def test_sellable_is_on_hand_minus_reserved(db):
    assert sellable(db, 10, 3) == 7


def test_never_negative(db):
    assert sellable(db, 2, 5) == 0
    assert sellable(db, -4, 0) == 0


def test_floors_fractional_units(db):
    assert sellable(db, 7.9, 0) == 7
    assert sellable(db, 2.9999994, 0) == 2  # real fractions are not noise


def test_float_noise_does_not_lose_a_unit(db):
    noisy = 0.1 + 0.2 + 2.7
    assert sellable(db, noisy, 0) == 3
    assert sellable(db, 2.9999999, 0) == 3
    # the sum computed by PostgreSQL's float8 arithmetic too
    assert db.scalar("SELECT stock_relay_sellable(0.1::float8 + 0.2::float8 + 2.7::float8, 0)") == 3


def test_safety_buffer_is_withheld(db):
    assert sellable(db, 10, 2, 3) == 5
    assert sellable(db, 10, 2, 9) == 0
    assert sellable(db, 10, 0, 0.5) == 9


def test_cap_limits_published_quantity(db):
    assert sellable(db, 500, 0, 0, 100) == 100
    assert sellable(db, 50, 0, 0, 100) == 50
    assert sellable(db, 50, 0, 0, 0) == 0


def test_clamped_to_what_a_shop_takes(db):
    assert sellable(db, 5e12, 0) == 1_000_000_000
    assert sellable(db, 1e308, 0) == 1_000_000_000


def test_rejects_nonsense_inputs(db):
    one = "SELECT stock_relay_sellable(%s::float8, %s::float8, %s::float8, %s::bigint)"
    rejects(db, one, ("Infinity", 0, 0, None), "finite")
    rejects(db, one, (1, "-Infinity", 0, None), "finite")
    rejects(db, one, ("NaN", 0, 0, None), "finite")
    rejects(db, one, (1, 0, "NaN", None), "finite")
    rejects(db, one, (None, 0, 0, None), "finite")
    rejects(db, one, (1, 0, -1, None), "safety buffer must not be negative (got -1)")
    rejects(db, one, (1, 0, 0, -5), "cap must not be negative (got -5)")


def test_kit_is_the_scarcest_component(db):
    # 10 bolts at 4 per kit allow 2; 9 nuts at 2 per kit allow 4
    assert kit(db, [(10, 0, 4), (9, 0, 2)]) == 2
    assert kit(db, [(10, 3, 1), (50, 0, 2)]) == 7, "reserved components are not sellable"


def test_kit_buffer_per_component_cap_on_the_kit(db):
    assert kit(db, [(10, 0, 2), (20, 0, 2)], buffer=2) == 4
    assert kit(db, [(100, 0, 1)], cap=5) == 5


def test_kit_float_noise_in_quantity_per_kit(db):
    assert kit(db, [(3, 0, 0.1)]) == 30  # 3 / 0.1 is 29.999... in floats


def test_kit_without_components_sells_nothing(db):
    assert kit(db, []) == 0


def test_kit_rejects_a_zero_quantity_per_kit(db):
    rejects(db, "SELECT stock_relay_kit_sellable(ARRAY[5]::float8[], ARRAY[0]::float8[], ARRAY[0]::float8[])", None,
            "quantity per kit must be a positive number")


def test_many_rows_in_one_statement(db):
    """The addon values a whole full sync in one statement (no round trip per product)."""
    n = 10_000
    rows = db.query("SELECT stock_relay_sellable(o, r, b, c) FROM unnest(%s::float8[], %s::float8[], %s::float8[],"
                    " %s::bigint[]) WITH ORDINALITY AS t(o, r, b, c, i) ORDER BY i",
                    ([float(i) for i in range(n)], [1.0] * n, [0.0] * n, [None] * n))
    assert [q for (q,) in rows] == [max(0, i - 1) for i in range(n)]
