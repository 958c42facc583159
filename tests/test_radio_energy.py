"""Energy figures per radio state, and the battery."""

import pytest

from meshnet.radio import Battery, EnergyError, get_profile

MA = 1e-3


def test_cc2420_currents():
    p = get_profile("zigbee")
    assert p.voltage == 3.0
    assert p.current_a("tx") == pytest.approx(17.4 * MA)           # default 0 dBm
    assert p.current_a("tx", -5.0) == pytest.approx(13.9 * MA)
    assert p.current_a("tx", -10.0) == pytest.approx(11.2 * MA)
    assert p.current_a("tx", -15.0) == pytest.approx(9.9 * MA)
    assert p.current_a("tx", -25.0) == pytest.approx(8.5 * MA)
    # interpolated between -3 dBm (15.2 mA) and -1 dBm (16.5 mA)
    assert p.current_a("tx", -2.0) == pytest.approx(15.85 * MA)
    # clamped to the table ends
    assert p.current_a("tx", -40.0) == pytest.approx(8.5 * MA)
    assert p.current_a("rx") == pytest.approx(18.8 * MA)
    assert p.current_a("idle") == pytest.approx(426e-6)
    assert p.power_w("rx") == pytest.approx(18.8 * MA * 3.0)


def test_tx_current_grows_with_power():
    p = get_profile("zigbee")
    currents = [p.current_a("tx", dbm) for dbm in range(-25, 1)]
    assert all(a <= b for a, b in zip(currents, currents[1:]))


def test_zm2102_currents():
    p = get_profile("zwave-r1")
    assert p.current_a("tx") == pytest.approx(36 * MA)
    assert p.current_a("rx") == pytest.approx(23 * MA)
    assert p.current_a("sleep") == pytest.approx(2.5e-6)


def test_unknown_state():
    with pytest.raises(EnergyError, match="allowed"):
        get_profile("zigbee").current_a("transmit")
    assert issubclass(EnergyError, ValueError)


def test_battery_drains_to_empty():
    b = Battery(10.0)
    assert b.fraction == 1.0 and not b.empty
    assert b.drain(4.0) == 4.0
    assert b.remaining_j == pytest.approx(6.0) and b.fraction == pytest.approx(0.6)
    assert b.drain(100.0) == pytest.approx(6.0)        # only what was left
    assert b.empty and b.remaining_j == 0.0 and b.fraction == 0.0
    with pytest.raises(ValueError):
        b.drain(-1.0)
    with pytest.raises(ValueError):
        Battery(0)


def test_battery_from_mah_and_a_days_listening():
    b = Battery.from_mah(2500, 3.0)                     # two AA cells
    assert b.capacity_j == pytest.approx(2500 * 3.6 * 3.0)
    p = get_profile("zigbee")
    day_rx_j = p.power_w("rx") * 86_400
    b.drain(day_rx_j)
    assert 0 < b.fraction < 1
