"""Radio profiles: framing, airtime, fragmentation, MAC timing and lookup errors."""

import pytest

from meshnet.radio import (PROFILE_NAMES, RadioConfigError, RadioProfile, UnknownProfileError,
                           get_profile)

US = 1e-6
MS = 1e-3


def test_all_required_profiles_exist():
    assert set(PROFILE_NAMES) == {"zigbee", "zigbee-868", "zigbee-915", "zwave-r1", "zwave-r2",
                                  "zwave-r3", "wavelan"}
    for name in PROFILE_NAMES:
        p = get_profile(name)
        assert isinstance(p, RadioProfile) and p.name == name
        assert p.mac in ("csma-ca", "zwave", "dcf")


def test_unknown_profile_is_value_and_key_error_listing_names():
    with pytest.raises(ValueError) as err:
        get_profile("bluetooth")
    assert isinstance(err.value, KeyError) and isinstance(err.value, UnknownProfileError)
    msg = str(err.value)
    assert "bluetooth" in msg and "zigbee" in msg and "wavelan" in msg


def test_zigbee_airtime_of_a_full_frame_is_4256_us():
    # SHR = preamble 8 + SFD 2 symbols, PHR 2 symbols, PSDU 127 octets x 2 symbols;
    # 16 us per symbol: (10 + 2 + 254) * 16 us = 4256 us.
    p = get_profile("zigbee")
    assert p.airtime(127) == pytest.approx(4.256e-3, abs=1e-12)
    assert p.shr_s == pytest.approx(160 * US)
    assert p.airtime(5) == pytest.approx((10 + 2 + 10) * 16 * US)   # an ACK: 352 us


def test_subghz_802154_airtimes():
    # 868 MHz BPSK: 20 kb/s, 1 bit/symbol, SHR 40 symbols (2.0 ms), PHR 8 (0.4 ms), 0.4 ms/octet
    assert get_profile("zigbee-868").airtime(127) == pytest.approx(2.0e-3 + 0.4e-3 + 127 * 0.4e-3)
    # 915 MHz BPSK: 40 kb/s, SHR 1.0 ms, PHR 0.2 ms, 0.2 ms/octet
    assert get_profile("zigbee-915").airtime(127) == pytest.approx(1.0e-3 + 0.2e-3 + 127 * 0.2e-3)


def test_zwave_airtimes_by_hand():
    # A singlecast frame carrying 10 payload bytes.
    # MPDU = header (home ID 4 + source 1 + frame control 2 + length 1 + destination 1 = 9)
    #        + payload 10 + checksum (1 byte XOR at R1/R2, 2 bytes CRC-16 at R3).
    payload = 10
    mpdu_r12 = 9 + payload + 1           # 20 bytes
    mpdu_r3 = 9 + payload + 2            # 21 bytes
    # R1: preamble 10 + SOF 1 + MPDU 20 = 31 bytes = 248 bits; Manchester doubles them to
    # 496 chips sent at 19.2 kchip/s -> 25.833 ms (the same as 248 bits at 9.6 kb/s).
    r1_chips = (10 + 1 + mpdu_r12) * 8 * 2
    assert r1_chips == 496
    r1 = get_profile("zwave-r1")
    assert r1.mac_header_bytes + payload == mpdu_r12
    assert r1.airtime(mpdu_r12) == pytest.approx(r1_chips / 19_200)
    assert r1.airtime(mpdu_r12) == pytest.approx(25.8333e-3, rel=1e-4)
    # R2: NRZ, 31 bytes = 248 bits at 40 kb/s -> 6.2 ms.
    r2 = get_profile("zwave-r2")
    assert r2.airtime(mpdu_r12) == pytest.approx(248 / 40_000)
    # R3: preamble 40 + SOF 1 + MPDU 21 = 62 bytes = 496 bits at 100 kb/s -> 4.96 ms.
    r3 = get_profile("zwave-r3")
    assert r3.mac_header_bytes + payload == mpdu_r3
    assert r3.airtime(mpdu_r3) == pytest.approx(496 / 100_000)


def test_wavelan_airtime_has_192_us_plcp():
    p = get_profile("wavelan")
    assert p.airtime(0) == pytest.approx(192 * US)
    assert p.airtime(1500) == pytest.approx(192 * US + 1500 * 8 / 2e6)


def test_fragments_zigbee_6lowpan():
    p = get_profile("zigbee")
    assert p.max_psdu == 127 and p.mac_header_bytes == 11
    assert p.fragments(100) == [111]                  # fits: one frame
    assert p.fragments(116) == [127]                  # exactly fills one frame
    frames = p.fragments(300)
    # FRAG1: 11 MAC + 4 frag header + 112 payload (multiple of 8) = 127
    # FRAGN: 11 MAC + 5 frag header + 104 payload = 120; last: 11 + 5 + 84 = 100
    assert frames == [127, 120, 100]
    assert all(f <= p.max_psdu for f in frames)
    assert p.packet_airtime(300) == pytest.approx(sum(p.airtime(f) for f in frames))
    assert p.packet_airtime(300) > 2 * p.packet_airtime(100)
    # IPv6 minimum MTU: 112 in FRAG1, then ceil((1280 - 112) / 104) = 12 FRAGNs
    assert len(p.fragments(1280)) == 13


def test_fragments_other_profiles_and_bad_input():
    zw = get_profile("zwave-r2")
    assert zw.fragments(54) == [64]
    assert zw.fragments(55) == [64, 11]
    assert get_profile("wavelan").fragments(64) == [92]
    with pytest.raises(ValueError):
        get_profile("zigbee").fragments(-1)
    with pytest.raises(ValueError):
        get_profile("zigbee").airtime(-1)


def test_zigbee_csma_ca_timing():
    p = get_profile("zigbee")
    assert p.mac == "csma-ca"
    assert p.backoff_unit_s == pytest.approx(320 * US)
    assert p.cca_s == pytest.approx(128 * US)
    assert p.turnaround_s == pytest.approx(192 * US)
    assert p.ack_wait_s == pytest.approx(864 * US)
    assert p.sifs_s == pytest.approx(192 * US) and p.lifs_s == pytest.approx(640 * US)
    assert (p.min_be, p.max_be, p.max_csma_backoffs, p.max_frame_retries) == (3, 5, 4, 3)
    assert p.ack_bytes == 5 and p.max_sifs_frame_bytes == 18
    # 868 MHz counts the same symbols at 50 us: ACK wait = 20 + 12 + 40 + 48 = 120 symbols
    assert get_profile("zigbee-868").ack_wait_s == pytest.approx(120 * 50 * US)


def test_zwave_and_dcf_timing():
    zw = get_profile("zwave-r1")
    assert zw.mac == "zwave"
    assert (zw.retransmit_min_s, zw.retransmit_max_s) == (pytest.approx(10 * MS),
                                                          pytest.approx(40 * MS))
    assert zw.max_frame_retries == 2
    assert zw.ack_wait_s > zw.airtime(zw.ack_bytes)
    w = get_profile("wavelan")
    assert w.mac == "dcf"
    assert (w.cw_min, w.cw_max) == (31, 1023)
    assert w.slot_s == pytest.approx(20 * US) and w.sifs_s == pytest.approx(10 * US)
    assert w.difs_s == pytest.approx(50 * US)
    assert (w.short_retry_limit, w.long_retry_limit) == (7, 4)


def test_wavelan_ns2_thresholds_and_power():
    w = get_profile("wavelan")
    assert w.frequency_hz == 914e6
    assert 10 ** (w.tx_power_dbm / 10) / 1e3 == pytest.approx(0.2818, rel=1e-3)
    assert w.sensitivity_dbm == pytest.approx(-64.37, abs=0.01)     # RXThresh_ 3.652e-10 W
    assert w.cs_threshold_dbm == pytest.approx(-78.07, abs=0.01)    # CSThresh_ 1.559e-11 W


def test_sensitivity_means_one_percent_per_for_20_octets():
    for name in ("zigbee", "zigbee-868", "zigbee-915"):
        p = get_profile(name)
        snr = p.sensitivity_dbm - p.noise_floor_dbm
        assert p.frame_error_rate(snr, 20) == pytest.approx(0.01, rel=1e-3)
        assert p.cs_threshold_dbm == pytest.approx(p.sensitivity_dbm + 10)


def test_profile_overrides():
    p = get_profile("zigbee", tx_power_dbm=-10.0)
    assert p.tx_power_dbm == -10.0 and p.airtime(127) == pytest.approx(4.256e-3)
    assert get_profile("zigbee").tx_power_dbm == 0.0      # the shared profile is untouched
    with pytest.raises(RadioConfigError, match="outside"):
        get_profile("zigbee", tx_power_dbm=10.0)
    with pytest.raises(RadioConfigError, match="allowed"):
        get_profile("zigbee", range_m=30)


def test_power_levels_are_the_datasheet_settings_highest_first():
    from meshnet.radio import get_profile, radios_table

    assert get_profile("zigbee").power_levels == (0.0, -1.0, -3.0, -5.0, -7.0, -10.0, -15.0,
                                                  -25.0)  # CC2420 PA_LEVEL settings
    for row in radios_table():
        levels = row["power_levels_dbm"]
        assert levels == sorted(levels, reverse=True) and row["tx_power_dbm"] in levels


def test_a_power_outside_the_pa_range_is_refused_clearly():
    import pytest

    from meshnet.radio import get_profile

    with pytest.raises(ValueError, match=r"outside the zigbee radio's range \[-25, 0\] dBm"):
        get_profile("zigbee").check_tx_power(3.0)
