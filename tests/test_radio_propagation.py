"""Propagation: closed forms against hand-computed values, derived ranges, errors."""

import math
import random

import pytest

from meshnet.radio import (PROPAGATION_NAMES, PropagationError, get_profile, make_propagation)

C = 299_792_458.0


def dbm(watts):
    return 10 * math.log10(watts / 1e-3)


def test_friis_by_hand():
    p = get_profile("zigbee")                          # 2405 MHz
    prop = make_propagation("friis", p)
    lam = C / 2405e6
    for d in (1.0, 10.0, 100.0, 557.0):
        pr_w = 1e-3 * (lam / (4 * math.pi * d)) ** 2   # Pt 1 mW, unity gains, L = 1
        assert prop.rx_power_dbm(0.0, d) == pytest.approx(dbm(pr_w), abs=1e-9)
    # 1 m free-space loss at 2405 MHz is 40.07 dB
    assert prop.rx_power_dbm(0.0, 1.0) == pytest.approx(-40.07, abs=0.01)
    # free space would take the default ZigBee radio ~560 m
    assert prop.range_m(0.0, -95.0) == pytest.approx(558, abs=3)


def test_two_ray_ns2_form_by_hand():
    w = get_profile("wavelan")
    prop = make_propagation("two-ray", w)
    pt = 0.28183815
    lam = C / 914e6
    dc = 4 * math.pi * 1.5 * 1.5 / lam
    assert prop.crossover_m == pytest.approx(dc) and prop.crossover_m == pytest.approx(86.2, abs=0.1)
    # beyond the crossover: Pt ht^2 hr^2 / d^4
    for d in (100.0, 250.0, 550.0):
        assert prop.rx_power_dbm(w.tx_power_dbm, d) == pytest.approx(
            dbm(pt * 1.5 ** 4 / d ** 4), abs=1e-3)
    # below it: Friis
    assert prop.rx_power_dbm(w.tx_power_dbm, 50.0) == pytest.approx(
        dbm(pt * (lam / (4 * math.pi * 50.0)) ** 2), abs=1e-3)
    # continuous at the crossover
    assert prop.rx_power_dbm(24.5, dc * (1 - 1e-9)) == pytest.approx(
        prop.rx_power_dbm(24.5, dc), abs=1e-6)
    # ns-2's RXThresh_ 3.652e-10 W is the power at 250 m
    assert dbm(pt * 1.5 ** 4 / 250 ** 4) == pytest.approx(dbm(3.652e-10), abs=0.01)


def test_wavelan_two_ray_gives_250_m_and_550_m_carrier_sense():
    w = get_profile("wavelan")
    prop = make_propagation("two-ray", w)
    assert prop.range_m(w.tx_power_dbm, w.sensitivity_dbm) == pytest.approx(250, abs=5)
    assert prop.range_m(w.tx_power_dbm, w.cs_threshold_dbm) == pytest.approx(550, abs=5)
    assert prop.max_range_m(w.tx_power_dbm, w) == pytest.approx(550, abs=5)


def test_zigbee_presets_land_in_the_seed_band():
    p = get_profile("zigbee")
    indoor = make_propagation("indoor", p).range_m(0.0, p.sensitivity_dbm)
    outdoor = make_propagation("outdoor", p).range_m(0.0, p.sensitivity_dbm)
    assert 10 <= indoor <= 30
    assert 100 <= outdoor <= 300


def test_zwave_is_about_30_m_indoors():
    for name in ("zwave-r1", "zwave-r2", "zwave-r3"):
        p = get_profile(name)
        r = make_propagation("indoor", p).range_m(p.tx_power_dbm, p.sensitivity_dbm)
        assert 20 <= r <= 45, (name, r)


def test_log_distance_by_hand():
    p = get_profile("zigbee")
    prop = make_propagation("log-distance", p, exponent=3.0, d0=1.0)
    pl_d0 = 20 * math.log10(4 * math.pi / (C / 2405e6))          # Friis loss at 1 m
    for d in (1.0, 20.0, 150.0):
        assert prop.rx_power_dbm(0.0, d) == pytest.approx(-pl_d0 - 30 * math.log10(d), abs=1e-9)
    # inside d0 it is Friis
    friis = make_propagation("friis", p)
    prop10 = make_propagation("log-distance", p, exponent=3.0, d0=10.0)
    assert prop10.rx_power_dbm(0.0, 5.0) == pytest.approx(friis.rx_power_dbm(0.0, 5.0))
    assert prop10.rx_power_dbm(0.0, 10.0) == pytest.approx(friis.rx_power_dbm(0.0, 10.0))
    # the closed-form range inverts rx_power_dbm
    r = prop.range_m(0.0, -95.0)
    assert prop.rx_power_dbm(0.0, r) == pytest.approx(-95.0, abs=1e-9)


def test_presets_are_documented_log_distance():
    p = get_profile("zigbee")
    out = make_propagation("outdoor", p)
    ind = make_propagation("indoor", p)
    assert (out.exponent, out.sigma_db) == (2.5, 4.0)
    assert (ind.exponent, ind.sigma_db) == (4.5, 7.0)
    assert out.describe()["model"] == "outdoor"
    tuned = make_propagation("indoor", p, sigma_db=0.0, exponent=4.0)
    assert tuned.sigma_db == 0.0
    assert tuned.range_m(0.0, -95.0) == pytest.approx(23.6, abs=0.5)


def test_rx_power_decreases_with_distance_for_every_model():
    p = get_profile("zigbee")
    for model in PROPAGATION_NAMES:
        prop = make_propagation(model, p)
        values = [prop.rx_power_dbm(0.0, d) for d in (0.0, 0.01, 0.5, 1, 5, 50, 99, 500, 5000)]
        assert all(a >= b for a, b in zip(values, values[1:])), model
        assert values[0] <= 0.0 + 1e-9, model          # never louder than transmitted


def test_range_matches_bisection_for_each_model():
    from meshnet.radio.propagation import Propagation
    for name in ("zigbee", "zwave-r1", "wavelan"):
        p = get_profile(name)
        for model in ("friis", "two-ray", "outdoor", "indoor"):
            prop = make_propagation(model, p)
            closed = prop.range_m(p.tx_power_dbm, p.sensitivity_dbm)
            bisect = Propagation.range_m(prop, p.tx_power_dbm, p.sensitivity_dbm)
            assert closed == pytest.approx(bisect, rel=1e-6), (name, model)


def test_unit_disk():
    p = get_profile("zigbee")
    prop = make_propagation("unit-disk", p, range_m=42.0)
    assert prop.rx_power_dbm(0.0, 42.0) == 0.0
    assert prop.rx_power_dbm(0.0, 42.01) == float("-inf")
    assert prop.range_m(0.0, -95.0) == 42.0
    assert prop.max_range_m() == 42.0
    assert prop.shadowing_db(random.Random(1)) == 0.0


def test_shadowing():
    p = get_profile("zigbee")
    assert make_propagation("friis", p).shadowing_db(random.Random(1)) == 0.0
    prop = make_propagation("indoor", p)
    rng = random.Random(7)
    draws = [prop.shadowing_db(rng) for _ in range(20000)]
    mean = sum(draws) / len(draws)
    std = math.sqrt(sum((x - mean) ** 2 for x in draws) / len(draws))
    assert abs(mean) < 0.2 and std == pytest.approx(7.0, rel=0.05)
    # reproducible per seed
    assert prop.shadowing_db(random.Random(3)) == prop.shadowing_db(random.Random(3))
    np = pytest.importorskip("numpy")
    assert isinstance(prop.shadowing_db(np.random.default_rng(1)), float)


def test_max_range_includes_three_sigma_and_interference():
    p = get_profile("zigbee")
    prop = make_propagation("outdoor", p)
    rx_range = prop.range_m(0.0, p.sensitivity_dbm)
    m = prop.max_range_m(0.0, p)
    assert m == pytest.approx(prop.range_m(0.0 + 12.0, p.interference_floor_dbm))
    assert m > rx_range and m > prop.range_m(0.0, p.cs_threshold_dbm)
    assert prop.max_range_m() == m           # defaults: the profile's maximum power


def test_profile_may_be_given_by_name():
    assert make_propagation("friis", "zigbee").profile is get_profile("zigbee")


def test_bad_inputs_raise_value_errors_naming_what_is_allowed():
    p = get_profile("zigbee")
    with pytest.raises(PropagationError) as err:
        make_propagation("okumura-hata", p)
    assert isinstance(err.value, ValueError)
    assert "two-ray" in str(err.value) and "unit-disk" in str(err.value)
    with pytest.raises(PropagationError, match="allowed: .*exponent"):
        make_propagation("indoor", p, beta=3)
    with pytest.raises(PropagationError, match="range_m"):
        make_propagation("unit-disk", p, exponent=2)
    with pytest.raises(PropagationError, match="sigma_db"):
        make_propagation("log-distance", p, sigma_db=-1)
    with pytest.raises(PropagationError, match="exponent"):
        make_propagation("log-distance", p, exponent=0)
    with pytest.raises(PropagationError, match="not a number"):
        make_propagation("two-ray", p, tx_height_m="high")
    for model in PROPAGATION_NAMES:
        with pytest.raises(PropagationError, match="distance"):
            make_propagation(model, p).rx_power_dbm(0.0, -1.0)
    with pytest.raises(ValueError, match="allowed"):
        make_propagation("friis", "lora")


def test_antenna_height_shorthand():
    w = get_profile("wavelan")
    prop = make_propagation("two-ray", w, antenna_height_m=3.0)
    assert prop.tx_height_m == prop.rx_height_m == 3.0
    assert prop.range_m(24.5, w.sensitivity_dbm) == pytest.approx(500, abs=5)  # d ~ sqrt(ht hr)
