"""Radio profiles: the PHY, MAC and energy figures of one kind of radio, with their sources.

A profile never states a range: ranges follow from transmit power, sensitivity and the
propagation model (see ``propagation.py`` and ``meshnet radios``).

Conventions
-----------
* Powers in dBm, times in seconds, sizes in bytes, frequencies in Hz.
* ``psdu`` is what the PHY carries: the MAC frame including its header and checksum.
* ``mac_header_bytes`` is the whole per-frame MAC overhead (header + FCS/checksum).
* ``noise_floor_dbm`` is where SINR is measured from. For the 802.15.4 profiles it is derived so
  that the error model loses 1 % of 20-octet frames exactly at the datasheet sensitivity, which
  is how 802.15.4-2006 6.1.7 defines sensitivity; for Z-Wave it is sensitivity minus the SNR
  threshold; for WaveLAN it is thermal noise over 22 MHz plus a 10 dB noise figure.
* ``interference_floor_dbm`` is the weakest signal that still matters to anyone (carrier sense
  or SINR); the simulator uses it (plus a shadowing margin) to size its spatial grid.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .energy import CurrentTable
from .reception import (BpskErrorModel, ErrorModel, OqpskErrorModel, ThresholdErrorModel,
                        sinr_for_per)

__all__ = [
    "RadioProfile", "RadioConfigError", "UnknownProfileError", "PROFILES", "PROFILE_NAMES",
    "get_profile", "MAC_KINDS",
]

MAC_KINDS = ("csma-ca", "zwave", "dcf")


class RadioConfigError(ValueError):
    """A radio setting (profile, propagation model, override) is unknown or out of range."""


class UnknownProfileError(RadioConfigError, KeyError):
    """No profile of that name. Also a KeyError, so ``PROFILES[name]``-style callers work."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, kw_only=True)
class RadioProfile:
    """Everything the channel and MAC need to know about one radio type."""

    name: str
    description: str
    standard: str
    sources: str

    # --- PHY ---
    frequency_hz: float
    bitrate_bps: float
    symbol_s: float          # one modulation symbol (802.15.4 MAC timers count symbols)
    shr_s: float             # preamble + start-of-frame delimiter on air
    phr_s: float             # PHY header (length field); 0 when the length is in the MPDU
    max_psdu: int
    tx_power_dbm: float      # default output power
    tx_power_min_dbm: float
    tx_power_max_dbm: float
    sensitivity_dbm: float
    noise_floor_dbm: float
    cs_threshold_dbm: float  # carrier sense / CCA: channel busy at or above this
    interference_floor_dbm: float
    error_model: ErrorModel = field(compare=False, repr=False)

    # --- MAC framing ---
    mac: str
    mac_header_bytes: int
    ack_bytes: int
    frag_first_header_bytes: int = 0   # extra header on the first fragment (6LoWPAN FRAG1: 4)
    frag_next_header_bytes: int = 0    # on later fragments (6LoWPAN FRAGN: 5)
    frag_align_bytes: int = 1          # fragment payload multiple (6LoWPAN: 8)

    # --- MAC timing shared by all ---
    turnaround_s: float
    cca_s: float
    ack_wait_s: float
    max_frame_retries: int

    # --- 802.15.4 unslotted CSMA-CA ---
    backoff_unit_s: float = 0.0
    min_be: int = 0
    max_be: int = 0
    max_csma_backoffs: int = 0
    sifs_s: float = 0.0
    lifs_s: float = 0.0
    max_sifs_frame_bytes: int = 0

    # --- Z-Wave (G.9959) ---
    retransmit_min_s: float = 0.0
    retransmit_max_s: float = 0.0

    # --- 802.11 DCF ---
    cw_min: int = 0
    cw_max: int = 0
    slot_s: float = 0.0
    difs_s: float = 0.0
    short_retry_limit: int = 0
    long_retry_limit: int = 0
    rts_threshold_bytes: int = 0
    rts_bytes: int = 0
    cts_bytes: int = 0

    # --- energy ---
    currents: CurrentTable = field(repr=False)

    def __post_init__(self) -> None:
        if self.mac not in MAC_KINDS:
            raise RadioConfigError(f"profile {self.name!r}: mac {self.mac!r}; allowed: "
                                   f"{', '.join(MAC_KINDS)}")
        if not self.tx_power_min_dbm <= self.tx_power_dbm <= self.tx_power_max_dbm:
            raise RadioConfigError(
                f"profile {self.name!r}: tx_power_dbm {self.tx_power_dbm} outside "
                f"[{self.tx_power_min_dbm}, {self.tx_power_max_dbm}] dBm")
        if self.mac_header_bytes >= self.max_psdu:
            raise RadioConfigError(f"profile {self.name!r}: MAC header does not fit max_psdu")
        # Hot-path helpers: plain attributes, so a call costs one multiply-add.
        object.__setattr__(self, "_byte_s", 8.0 / self.bitrate_bps)
        object.__setattr__(self, "_phy_overhead_s", self.shr_s + self.phr_s)
        # Bind the error model's method directly: frame_error_rate is called per received frame.
        object.__setattr__(self, "frame_error_rate", self.error_model.frame_error_rate)

    # ------------------------------------------------------------------ PHY
    @property
    def wavelength_m(self) -> float:
        return 299_792_458.0 / self.frequency_hz

    @property
    def snr_threshold_db(self) -> float:
        """SINR at which a 20-octet frame is lost with probability 1 % (the threshold itself
        for threshold models)."""
        return sinr_for_per(self.error_model, 0.01, 20)

    @property
    def power_levels(self) -> tuple[float, ...]:
        """Output powers (dBm) the radio can be set to, highest first: the settings its
        datasheet gives a TX current for (the CC2420's 8 PA levels), within the PA range.
        A frame may be sent at any power in [tx_power_min_dbm, tx_power_max_dbm]; between
        levels the TX current is interpolated."""
        lo, hi = self.tx_power_min_dbm, self.tx_power_max_dbm
        levels = {p for p, _ in self.currents.tx_points if lo <= p <= hi} | {self.tx_power_dbm}
        return tuple(sorted(levels, reverse=True))

    def levels_with(self, default_dbm: float) -> tuple[float, ...]:
        """``power_levels`` plus a node's default power (a scenario may set one between
        levels), highest first: what ``ctx.power_levels`` offers."""
        return tuple(sorted({*self.power_levels, float(default_dbm)}, reverse=True))

    def check_tx_power(self, dbm: float) -> float:
        """``dbm`` as a float if the radio can transmit at it, else a clear ValueError."""
        value = float(dbm)
        if not self.tx_power_min_dbm <= value <= self.tx_power_max_dbm:
            raise ValueError(f"tx power {dbm!r} dBm is outside the {self.name} radio's range "
                             f"[{self.tx_power_min_dbm:g}, {self.tx_power_max_dbm:g}] dBm")
        return value

    def airtime(self, psdu_bytes: int) -> float:
        """Seconds one frame of ``psdu_bytes`` occupies the channel, preamble/SHR and PHY
        header included."""
        if psdu_bytes < 0:
            raise RadioConfigError(f"psdu_bytes must be >= 0, got {psdu_bytes}")
        return self._phy_overhead_s + psdu_bytes * self._byte_s  # type: ignore[attr-defined]

    def frame_error_rate(self, sinr_db: float, psdu_bytes: int) -> float:  # replaced per instance
        """Probability in [0, 1] that a ``psdu_bytes`` frame received at ``sinr_db`` is lost."""
        return self.error_model.frame_error_rate(sinr_db, psdu_bytes)

    def bit_error_rate(self, sinr_db: float) -> float:
        return self.error_model.bit_error_rate(sinr_db)

    # ------------------------------------------------------------------ MAC framing
    @property
    def max_payload_bytes(self) -> int:
        """Largest network-layer packet that fits one frame unfragmented."""
        return self.max_psdu - self.mac_header_bytes

    def fragments(self, payload_bytes: int) -> list[int]:
        """PSDU sizes of the frames that carry a ``payload_bytes`` network packet.

        One frame when it fits; otherwise fragments in the 6LoWPAN manner (RFC 4944 5.3): each
        fragment carries the MAC overhead plus a fragment header, and every fragment but the
        last carries a multiple of ``frag_align_bytes`` of payload.
        """
        if payload_bytes < 0:
            raise RadioConfigError(f"payload_bytes must be >= 0, got {payload_bytes}")
        room = self.max_psdu - self.mac_header_bytes
        if payload_bytes <= room:
            return [payload_bytes + self.mac_header_bytes]
        align = self.frag_align_bytes
        first_cap = (room - self.frag_first_header_bytes) // align * align
        next_cap = (room - self.frag_next_header_bytes) // align * align
        if first_cap <= 0 or next_cap <= 0:
            raise RadioConfigError(f"profile {self.name!r} cannot fragment: no room for payload")
        sizes = [self.mac_header_bytes + self.frag_first_header_bytes + first_cap]
        left = payload_bytes - first_cap
        while left > 0:
            chunk = next_cap if left > next_cap else left
            sizes.append(self.mac_header_bytes + self.frag_next_header_bytes + chunk)
            left -= chunk
        return sizes

    def packet_airtime(self, payload_bytes: int) -> float:
        """Channel time of all frames carrying one network packet (no MAC gaps or ACKs)."""
        return sum(self.airtime(n) for n in self.fragments(payload_bytes))

    # ------------------------------------------------------------------ energy
    @property
    def voltage(self) -> float:
        return self.currents.voltage

    def current_a(self, state: str, tx_power_dbm: float | None = None) -> float:
        """Supply current (A) in ``state`` (tx, rx, idle, sleep); TX at ``tx_power_dbm``
        (default: the profile's), interpolated in the datasheet table."""
        return self.currents.current_a(
            state, self.tx_power_dbm if tx_power_dbm is None else tx_power_dbm)

    def power_w(self, state: str, tx_power_dbm: float | None = None) -> float:
        """Electrical power drawn (W) in ``state``."""
        return self.current_a(state, tx_power_dbm) * self.currents.voltage

    def replace(self, **overrides: object) -> "RadioProfile":
        """A copy with some fields changed (e.g. ``tx_power_dbm``); unknown names are errors."""
        names = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(overrides) - names)
        if bad:
            raise RadioConfigError(
                f"unknown radio profile field(s) {', '.join(bad)}; allowed: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **overrides)  # type: ignore[arg-type]


# ====================================================================== figures
_US = 1e-6
_MS = 1e-3
_MA = 1e-3

# TI CC2420 datasheet (rev. B), "Output power programming" table: TX current vs output power,
# and the DC characteristics: RX 18.8 mA, idle 426 uA, power-down 20 uA; 3 V supply used here.
CC2420_CURRENTS = CurrentTable(
    tx_points=((-25.0, 8.5 * _MA), (-15.0, 9.9 * _MA), (-10.0, 11.2 * _MA),
               (-7.0, 12.5 * _MA), (-5.0, 13.9 * _MA), (-3.0, 15.2 * _MA),
               (-1.0, 16.5 * _MA), (0.0, 17.4 * _MA)),
    rx_a=18.8 * _MA, idle_a=426 * _US, sleep_a=20 * _US, voltage=3.0,
    source="TI CC2420 datasheet: TX 8.5-17.4 mA (-25..0 dBm), RX 18.8 mA, idle 426 uA, "
           "power-down 20 uA",
)

# Sigma Designs ZM2102 (Z-Wave 200 series) datasheet: TX 36 mA at 0 dBm, RX 23 mA,
# sleep 2.5 uA, 3.3 V typical supply. An always-listening Z-Wave node idles with its receiver
# on, so idle = RX current.
ZM2102_CURRENTS = CurrentTable(
    tx_points=((0.0, 36 * _MA),), rx_a=23 * _MA, idle_a=23 * _MA, sleep_a=2.5 * _US,
    voltage=3.3,
    source="ZM2102 datasheet: TX 36 mA @0 dBm, RX 23 mA, sleep 2.5 uA; idle = listening",
)

# ns-2 WirelessPhy energy defaults: Pt_consume_ 0.660 W, Pr_consume_ 0.395 W, P_idle_ 0 W,
# P_sleep_ 0.00005 W; expressed as currents at a 5 V PC-card supply.
_WAVELAN_V = 5.0
WAVELAN_CURRENTS = CurrentTable(
    tx_points=((24.5, 0.660 / _WAVELAN_V),), rx_a=0.395 / _WAVELAN_V, idle_a=0.0,
    sleep_a=0.00005 / _WAVELAN_V, voltage=_WAVELAN_V,
    source="ns-2 WirelessPhy defaults: TX 0.660 W, RX 0.395 W, idle 0 W, sleep 50 uW",
)

# 802.15.4-2006 6.1.7: sensitivity is the input level giving PER < 1 % on 20-octet PSDUs.
_SENSITIVITY_PER = 0.01
_SENSITIVITY_PSDU = 20
# An interferer 6 dB below the noise floor raises it by ~1 dB: below that nothing matters.
_INTERFERENCE_MARGIN_DB = 6.0


def _ieee802154(name: str, *, description: str, frequency_hz: float, bitrate_bps: float,
                symbol_s: float, shr_symbols: int, phr_symbols: int, sensitivity_dbm: float,
                error_model: ErrorModel, symbols_per_octet: int, sources: str) -> RadioProfile:
    """An 802.15.4 profile; every MAC time is a symbol count from 802.15.4-2006 clause 7.4."""
    noise = sensitivity_dbm - sinr_for_per(error_model, _SENSITIVITY_PER, _SENSITIVITY_PSDU)
    a_unit_backoff = 20          # 7.4.1 aUnitBackoffPeriod, symbols
    a_turnaround = 12            # 6.4.1 aTurnaroundTime, symbols
    # 7.4.2 macAckWaitDuration = aUnitBackoffPeriod + aTurnaroundTime + phySHRDuration
    #                            + ceil(6 * phySymbolsPerOctet)  (54 symbols at 2.4 GHz)
    ack_wait = a_unit_backoff + a_turnaround + shr_symbols + math.ceil(6 * symbols_per_octet)
    return RadioProfile(
        name=name, description=description, standard="IEEE 802.15.4-2006", sources=sources,
        frequency_hz=frequency_hz, bitrate_bps=bitrate_bps, symbol_s=symbol_s,
        shr_s=shr_symbols * symbol_s, phr_s=phr_symbols * symbol_s,
        max_psdu=127,                       # 6.4.1 aMaxPHYPacketSize
        tx_power_dbm=0.0, tx_power_min_dbm=-25.0, tx_power_max_dbm=0.0,  # CC2420 PA range
        sensitivity_dbm=sensitivity_dbm, noise_floor_dbm=noise,
        # 6.9.9 CCA mode 1: ED threshold at most 10 dB above the specified sensitivity; we put
        # it 10 dB above this receiver's sensitivity.
        cs_threshold_dbm=sensitivity_dbm + 10.0,
        interference_floor_dbm=noise - _INTERFERENCE_MARGIN_DB,
        error_model=error_model,
        mac="csma-ca",
        # 7.2.2.2 data frame, short addresses, PAN ID compression: FC 2 + seq 1 + dst PAN 2 +
        # dst 2 + src 2 = 9 bytes MHR, + 2 bytes FCS.
        mac_header_bytes=11,
        ack_bytes=5,                        # 7.2.2.3 ACK frame: FC 2 + seq 1 + FCS 2
        frag_first_header_bytes=4, frag_next_header_bytes=5, frag_align_bytes=8,  # RFC 4944 5.3
        turnaround_s=a_turnaround * symbol_s,
        cca_s=8 * symbol_s,                 # 6.9.9 CCA detection time: 8 symbol periods
        ack_wait_s=ack_wait * symbol_s,
        max_frame_retries=3,                # 7.4.2 macMaxFrameRetries default
        backoff_unit_s=a_unit_backoff * symbol_s,
        min_be=3, max_be=5, max_csma_backoffs=4,  # 7.4.2 macMinBE, macMaxBE, macMaxCSMABackoffs
        sifs_s=12 * symbol_s,               # 7.4.2 macMinSIFSPeriod
        lifs_s=40 * symbol_s,               # 7.4.2 macMinLIFSPeriod
        max_sifs_frame_bytes=18,            # 7.4.1 aMaxSIFSFrameSize
        currents=CC2420_CURRENTS,
    )


# Z-Wave SNR threshold: non-coherent binary FSK has BER = exp(-SNR/2)/2, which reaches 1e-3 at
# SNR = 2 ln 500 = 12.4 (10.9 dB). A frame survives at or above it and is lost below.
ZWAVE_SNR_THRESHOLD_DB = 10.0 * math.log10(2.0 * math.log(500.0))
# Z-Wave turnaround (RX<->TX switch) is not given in G.9959's summary tables; 1 ms assumed.
_ZWAVE_TURNAROUND_S = 1.0 * _MS


def _zwave(name: str, *, description: str, frequency_hz: float, bitrate_bps: float,
           symbol_s: float, preamble_bytes: int, checksum_bytes: int, max_psdu: int,
           sensitivity_dbm: float, sources: str) -> RadioProfile:
    """A G.9959 profile. On air: preamble (0x55...), 1-byte start-of-frame, then the MPDU
    (home ID 4 + source 1 + frame control 2 + length 1 + destination 1 = 9 bytes header,
    payload, checksum). There is no separate PHY header: the length is in the MPDU."""
    header = 9 + checksum_bytes
    shr_s = (preamble_bytes + 1) * 8.0 / bitrate_bps
    ack_airtime = shr_s + header * 8.0 / bitrate_bps   # an ACK is a header-only frame
    model = ThresholdErrorModel(ZWAVE_SNR_THRESHOLD_DB)
    noise = sensitivity_dbm - ZWAVE_SNR_THRESHOLD_DB
    return RadioProfile(
        name=name, description=description, standard="ITU-T G.9959", sources=sources,
        frequency_hz=frequency_hz, bitrate_bps=bitrate_bps, symbol_s=symbol_s,
        shr_s=shr_s, phr_s=0.0, max_psdu=max_psdu,
        # Z-Wave Powerlevel command class: normal power and 1..9 dB below it.
        tx_power_dbm=0.0, tx_power_min_dbm=-9.0, tx_power_max_dbm=0.0,
        sensitivity_dbm=sensitivity_dbm, noise_floor_dbm=noise,
        cs_threshold_dbm=sensitivity_dbm + 10.0,   # same 10 dB rule as 802.15.4 CCA
        interference_floor_dbm=noise - _INTERFERENCE_MARGIN_DB,
        error_model=model,
        mac="zwave", mac_header_bytes=header, ack_bytes=header,
        turnaround_s=_ZWAVE_TURNAROUND_S,
        cca_s=_ZWAVE_TURNAROUND_S,                 # listen-before-talk window, assumed
        # Derived: turnaround, the ACK on air, and one more turnaround of slack.
        ack_wait_s=2 * _ZWAVE_TURNAROUND_S + ack_airtime,
        max_frame_retries=2,                       # G.9959 MAC: 2 retransmissions
        retransmit_min_s=10 * _MS, retransmit_max_s=40 * _MS,  # G.9959 random backoff
        currents=ZM2102_CURRENTS,
    )


def _wavelan() -> RadioProfile:
    """Lucent WaveLAN as ns-2 models it (Broch et al. 1998): 914 MHz, 2 Mb/s DSSS, 802.11 DCF."""
    thermal_dbm = -174.0 + 10.0 * math.log10(22e6)   # kTB at 290 K over the 22 MHz channel
    noise = thermal_dbm + 10.0                        # 10 dB noise figure (assumed)
    cs = 10.0 * math.log10(1.559e-11 / 1e-3)          # ns-2 CSThresh_ 1.559e-11 W = -78.07 dBm
    symbol_s = 1.0 * _US                              # 1 Msymbol/s DSSS (DQPSK: 2 bits/symbol)
    sifs, slot = 10 * _US, 20 * _US                   # 802.11-1999 15.3.3 DSSS PHY
    ack_bytes = 14                                    # 802.11 ACK: FC 2 + dur 2 + RA 6 + FCS 4
    ack_airtime = 192 * _US + ack_bytes * 8 / 2e6
    return RadioProfile(
        name="wavelan",
        description="802.11 DSSS 2 Mb/s, 914 MHz WaveLAN (ns-2 / Broch et al. 1998)",
        standard="IEEE 802.11-1999 DSSS; ns-2 defaults",
        sources="ns-2 WirelessPhy/Mac802_11 defaults; IEEE 802.11-1999 clause 15",
        frequency_hz=914e6, bitrate_bps=2e6, symbol_s=symbol_s,
        shr_s=144 * _US,                  # long PLCP preamble: 144 bits at 1 Mb/s
        phr_s=48 * _US,                   # PLCP header: 48 bits at 1 Mb/s (192 us in all)
        max_psdu=2346,                    # 802.11 maximum MPDU
        # ns-2 Pt_ 0.28183815 W = 24.5 dBm; lower settings for power-control experiments.
        tx_power_dbm=24.5, tx_power_min_dbm=0.0, tx_power_max_dbm=24.5,
        sensitivity_dbm=10.0 * math.log10(3.652e-10 / 1e-3),  # ns-2 RXThresh_ = -64.37 dBm
        noise_floor_dbm=noise,
        cs_threshold_dbm=cs,
        interference_floor_dbm=cs,        # ns-2 discards anything below CSThresh_
        error_model=ThresholdErrorModel(10.0),  # ns-2 CPThresh_ 10 (capture ratio, 10 dB)
        mac="dcf",
        mac_header_bytes=28,              # 802.11 data MAC header 24 + FCS 4
        ack_bytes=ack_bytes,
        turnaround_s=5 * _US,             # 15.3.3 aRxTxTurnaroundTime
        cca_s=15 * _US,                   # 15.3.3 aCCATime
        ack_wait_s=sifs + ack_airtime + slot,
        max_frame_retries=7,              # = short retry limit
        cw_min=31, cw_max=1023, slot_s=slot, sifs_s=sifs,
        difs_s=sifs + 2 * slot,           # DIFS = SIFS + 2 slots = 50 us
        short_retry_limit=7, long_retry_limit=4,  # dot11ShortRetryLimit / dot11LongRetryLimit
        rts_threshold_bytes=0,            # ns-2 Mac/802_11 RTSThreshold_ 0: RTS/CTS always
        rts_bytes=20, cts_bytes=14,
        currents=WAVELAN_CURRENTS,
    )


def _build_profiles() -> dict[str, RadioProfile]:
    oqpsk, bpsk = OqpskErrorModel(), BpskErrorModel()
    profiles = [
        _ieee802154(
            "zigbee", description="802.15.4 O-QPSK 250 kb/s, 2.4 GHz (CC2420-class)",
            frequency_hz=2405e6,           # 6.1.2.1 channel 11: 2405 MHz
            bitrate_bps=250e3,
            symbol_s=16 * _US,             # 62.5 ksymbol/s, 2 symbols per octet
            shr_symbols=10,                # 6.5.1: preamble 8 + SFD 2 symbols = 160 us
            phr_symbols=2,                 # 1-octet PHR
            sensitivity_dbm=-95.0,         # CC2420 datasheet, typical
            error_model=oqpsk, symbols_per_octet=2,
            sources="IEEE 802.15.4-2006 clauses 6.5, 7.4; ns-3 lr-wpan error model; "
                    "TI CC2420 datasheet"),
        _ieee802154(
            "zigbee-868", description="802.15.4 BPSK 20 kb/s, 868 MHz",
            frequency_hz=868.3e6,          # 6.1.2.1 channel 0
            bitrate_bps=20e3, symbol_s=50 * _US,  # 20 ksymbol/s, 1 bit per symbol
            shr_symbols=40,                # 6.6.2: preamble 32 + SFD 8 symbols = 2.0 ms
            phr_symbols=8,
            sensitivity_dbm=-92.0,         # 6.6.3.4 required sensitivity
            error_model=bpsk, symbols_per_octet=8,
            sources="IEEE 802.15.4-2006 clauses 6.6, 7.4, Annex E; CC2420 energy figures"),
        _ieee802154(
            "zigbee-915", description="802.15.4 BPSK 40 kb/s, 915 MHz",
            frequency_hz=906e6,            # 6.1.2.1 channel 1
            bitrate_bps=40e3, symbol_s=25 * _US,  # 40 ksymbol/s
            shr_symbols=40,                # 1.0 ms
            phr_symbols=8,
            sensitivity_dbm=-92.0,
            error_model=bpsk, symbols_per_octet=8,
            sources="IEEE 802.15.4-2006 clauses 6.6, 7.4, Annex E; CC2420 energy figures"),
        _zwave(
            "zwave-r1", description="Z-Wave R1: 9.6 kb/s FSK, Manchester (19.2 kchip/s)",
            frequency_hz=868.42e6, bitrate_bps=9.6e3,
            symbol_s=1 / 19.2e3,           # one Manchester chip; two per bit
            preamble_bytes=10, checksum_bytes=1, max_psdu=64,
            sensitivity_dbm=-102.0,        # ZM2102 datasheet, 9.6 kb/s
            sources="ITU-T G.9959 (R1 PHY, MAC); ZM2102 datasheet"),
        _zwave(
            "zwave-r2", description="Z-Wave R2: 40 kb/s FSK, NRZ",
            frequency_hz=868.42e6, bitrate_bps=40e3, symbol_s=1 / 40e3,
            preamble_bytes=10, checksum_bytes=1, max_psdu=64,
            sensitivity_dbm=-98.0,         # ZM2102 datasheet, 40 kb/s
            sources="ITU-T G.9959 (R2 PHY, MAC); ZM2102 datasheet"),
        _zwave(
            "zwave-r3", description="Z-Wave R3: 100 kb/s GFSK, NRZ",
            frequency_hz=869.85e6,         # G.9959 R3 channel, EU
            bitrate_bps=100e3, symbol_s=1 / 100e3,
            preamble_bytes=40, checksum_bytes=2, max_psdu=170,  # CRC-16 at R3
            sensitivity_dbm=-95.0,         # 500-series class figure; 200 series has no R3
            sources="ITU-T G.9959 (R3 PHY, MAC); ZM2102 energy figures"),
        _wavelan(),
    ]
    return {p.name: p for p in profiles}


PROFILES: dict[str, RadioProfile] = _build_profiles()
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def get_profile(name: str, **overrides: object) -> RadioProfile:
    """The named profile, optionally with fields overridden (``tx_power_dbm=-5``)."""
    try:
        profile = PROFILES[name]
    except (KeyError, TypeError):
        raise UnknownProfileError(
            f"unknown radio profile {name!r}; allowed: {', '.join(PROFILE_NAMES)}") from None
    return profile.replace(**overrides) if overrides else profile
