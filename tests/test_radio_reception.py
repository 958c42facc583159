"""Reception: the 802.15.4 O-QPSK and BPSK bit error formulas and the SNR-threshold model."""

import math

import pytest

from meshnet.radio import get_profile
from meshnet.radio.reception import OqpskErrorModel, oqpsk_ber_exact, sinr_for_per


def oqpsk_ber_reference(sinr_db):
    """IEEE 802.15.4-2006 E.4.1.7, written out independently of the module."""
    snr = 10 ** (sinr_db / 10)
    s = sum((-1) ** k * math.comb(16, k) * math.exp(20 * snr * (1 / k - 1)) for k in range(2, 17))
    return 8 / 15 * 1 / 16 * s


def test_oqpsk_ber_known_points():
    # At SINR -> 0 the sum is 15 and BER is exactly 1/2.
    assert oqpsk_ber_reference(-300) == pytest.approx(0.5)
    # Dominant-term check at 10 dB: BER ~ 8/15 * 1/16 * 120 * exp(-100) = 4 exp(-100)
    assert oqpsk_ber_reference(10.0) == pytest.approx(4 * math.exp(-100), rel=1e-3)
    p = get_profile("zigbee")
    for sinr_db in (-10.0, -5.0, -2.0, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0):
        ref = oqpsk_ber_reference(sinr_db)
        assert oqpsk_ber_exact(sinr_db) == pytest.approx(ref, rel=1e-9)
        assert p.bit_error_rate(sinr_db) == pytest.approx(ref, rel=1e-3)


def test_oqpsk_per_is_one_minus_success_over_all_bits():
    p = get_profile("zigbee")
    for sinr_db, n in ((0.0, 127), (1.0, 20), (2.0, 60), (-1.0, 5)):
        ber = oqpsk_ber_reference(sinr_db)
        assert p.frame_error_rate(sinr_db, n) == pytest.approx(1 - (1 - ber) ** (8 * n), rel=1e-3)
    # hand value: 0 dB, BER = 1.6153e-4, 127 octets -> 1 - (1 - BER)^1016 = 0.1514
    assert p.frame_error_rate(0.0, 127) == pytest.approx(0.1514, abs=5e-4)
    assert p.frame_error_rate(30.0, 127) == 0.0
    assert p.frame_error_rate(-40.0, 127) == pytest.approx(1.0)


def test_ber_and_per_monotone_decreasing_in_sinr():
    for name in ("zigbee", "zigbee-868", "zigbee-915", "zwave-r1", "wavelan"):
        p = get_profile(name)
        grid = [x / 20 for x in range(-400, 600)]
        bers = [p.bit_error_rate(x) for x in grid]
        pers = [p.frame_error_rate(x, 127) for x in grid]
        assert all(a >= b for a, b in zip(bers, bers[1:])), name
        assert all(a >= b for a, b in zip(pers, pers[1:])), name
        assert all(0.0 <= v <= 1.0 for v in pers), name
    # strictly decreasing where the O-QPSK curve is informative
    p = get_profile("zigbee")
    mid = [p.bit_error_rate(x / 100) for x in range(-1000, 800)]
    assert all(a > b for a, b in zip(mid, mid[1:]))


def test_longer_frames_fail_more_often():
    p = get_profile("zigbee")
    assert p.frame_error_rate(1.0, 127) > p.frame_error_rate(1.0, 20) > 0


def test_bpsk_ber_formula():
    p = get_profile("zigbee-868")
    for sinr_db in (-3.0, 0.0, 2.0, 5.0):
        snr = 10 ** (sinr_db / 10)
        q = 0.5 * math.erfc(math.sqrt(10 * snr) / math.sqrt(2))   # Q(sqrt(10 SINR))
        assert p.bit_error_rate(sinr_db) == pytest.approx(q, rel=1e-12)
        assert p.frame_error_rate(sinr_db, 50) == pytest.approx(1 - (1 - q) ** 400, rel=1e-9)


def test_threshold_models():
    zw = get_profile("zwave-r2")
    thr = zw.error_model.threshold_db
    assert thr == pytest.approx(10 * math.log10(2 * math.log(500)))  # BFSK BER 1e-3: 10.9 dB
    assert zw.frame_error_rate(thr, 64) == 0.0
    assert zw.frame_error_rate(thr - 0.01, 64) == 1.0
    assert zw.noise_floor_dbm == pytest.approx(zw.sensitivity_dbm - thr)
    w = get_profile("wavelan")
    assert w.frame_error_rate(10.0, 1000) == 0.0        # ns-2 CPThresh_ 10 dB
    assert w.frame_error_rate(9.99, 1000) == 1.0


def test_sinr_for_per_inverts_the_model():
    m = OqpskErrorModel()
    x = sinr_for_per(m, 0.01, 20)
    assert m.frame_error_rate(x, 20) == pytest.approx(0.01, rel=1e-6)
    assert 0.0 < x < 1.0   # the O-QPSK curve reaches 1 % PER for 20 octets just above 0 dB
