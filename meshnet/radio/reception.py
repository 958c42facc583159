"""Reception models: signal-to-interference-plus-noise ratio (SINR) in, frame error rate out.

The simulator calls ``frame_error_rate`` once per received frame, so every model keeps it cheap:
constants are precomputed, nothing is allocated per call, and the O-QPSK bit error rate (a sum
of 15 exponentials) is read from a table built once.

Models:

* :class:`OqpskErrorModel` -- IEEE 802.15.4-2006 Annex E.4.1.7 (2450 MHz O-QPSK, AWGN), the
  formula ns-3's ``LrWpanErrorModel`` implements::

      BER = 8/15 * 1/16 * sum_{k=2..16} (-1)^k C(16,k) exp(20 * SINR * (1/k - 1))

* :class:`BpskErrorModel` -- 868/915 MHz BPSK PHYs, ``BER = Q(sqrt(10 * SINR))`` (802.15.4-2006
  Annex E.4.1.8; coherent BPSK with the despreading gain folded into the factor 10).
* :class:`ThresholdErrorModel` -- a frame is received whole when SINR >= a documented threshold
  and lost otherwise (Z-Wave FSK, WaveLAN with ns-2's capture threshold).

For the bit-error models ``PER = 1 - (1 - BER)^bits`` with ``bits = 8 * psdu_bytes`` (the SHR is
what the receiver synchronised on, so it is not counted). SINR is linear power ratio inside the
formulas; the public methods take decibels because the engine works in dBm.
"""

from __future__ import annotations

import math

__all__ = [
    "ErrorModel", "OqpskErrorModel", "BpskErrorModel", "ThresholdErrorModel",
    "oqpsk_ber_exact", "sinr_for_per",
]

# (-1)^k * C(16, k) for k = 2..16, the coefficients of Annex E.4.1.7 (as ns-3's lr-wpan table).
_OQPSK_TERMS = tuple(((-1) ** k * math.comb(16, k), 20.0 * (1.0 / k - 1.0)) for k in range(2, 17))
_OQPSK_SCALE = 8.0 / 15.0 / 16.0

# Table of ln(BER) on a 0.01 dB grid. Below the grid BER is computed exactly (rare: the frame is
# lost anyway); above it BER < 1e-60 and the frame error rate is 0.0 to double precision.
_TABLE_LO_DB = -20.0
_TABLE_HI_DB = 12.0
_TABLE_STEP_DB = 0.01
_LN_FLOOR = -800.0  # exp() of this underflows to 0.0; keeps interpolation finite


def oqpsk_ber_exact(sinr_db: float) -> float:
    """O-QPSK bit error rate straight from the Annex E.4.1.7 sum (no table)."""
    snr = 10.0 ** (sinr_db / 10.0)
    total = 0.0
    for coef, factor in _OQPSK_TERMS:
        total += coef * math.exp(factor * snr)
    return min(max(total * _OQPSK_SCALE, 0.0), 0.5)


def _build_oqpsk_table() -> tuple[list[float], float]:
    n = int(round((_TABLE_HI_DB - _TABLE_LO_DB) / _TABLE_STEP_DB)) + 1
    table = []
    for i in range(n):
        ber = oqpsk_ber_exact(_TABLE_LO_DB + i * _TABLE_STEP_DB)
        table.append(math.log(ber) if ber > 0.0 else _LN_FLOOR)
    # Guard against any rounding wiggle so interpolation is monotone by construction.
    for i in range(1, n):
        if table[i] > table[i - 1]:
            table[i] = table[i - 1]
    return table, _TABLE_LO_DB + (n - 1) * _TABLE_STEP_DB


class ErrorModel:
    """Base: maps SINR (dB) and frame length to the probability the frame is lost."""

    kind = "base"

    def bit_error_rate(self, sinr_db: float) -> float:
        raise NotImplementedError

    def frame_error_rate(self, sinr_db: float, psdu_bytes: int) -> float:
        ber = self.bit_error_rate(sinr_db)
        if ber <= 0.0:
            return 0.0
        if ber >= 0.5:
            ber = 0.5
        return -math.expm1(8 * psdu_bytes * math.log1p(-ber))

    def describe(self) -> str:
        return self.kind


class OqpskErrorModel(ErrorModel):
    """802.15.4 2450 MHz O-QPSK (ns-3 lr-wpan), read from a 0.01 dB table with linear
    interpolation of ln(BER); relative error below 1e-4 against the exact sum."""

    kind = "oqpsk-802.15.4"
    _table: list[float] | None = None
    _hi_db: float = _TABLE_HI_DB

    def __init__(self) -> None:
        if OqpskErrorModel._table is None:
            OqpskErrorModel._table, OqpskErrorModel._hi_db = _build_oqpsk_table()
        self._t = OqpskErrorModel._table
        self._hi = OqpskErrorModel._hi_db
        self._inv_step = 1.0 / _TABLE_STEP_DB
        self._last = len(self._t) - 1

    def _ln_ber(self, sinr_db: float) -> float:
        x = (sinr_db - _TABLE_LO_DB) * self._inv_step
        i = int(x)
        if i >= self._last:
            return _LN_FLOOR
        t = self._t
        a = t[i]
        return a + (x - i) * (t[i + 1] - a)

    def bit_error_rate(self, sinr_db: float) -> float:
        if sinr_db < _TABLE_LO_DB:
            return oqpsk_ber_exact(sinr_db)
        return math.exp(self._ln_ber(sinr_db))

    def frame_error_rate(self, sinr_db: float, psdu_bytes: int) -> float:
        if sinr_db >= self._hi:
            return 0.0
        if sinr_db < _TABLE_LO_DB:
            ber = oqpsk_ber_exact(sinr_db)
        else:
            ber = math.exp(self._ln_ber(sinr_db))
        if ber <= 0.0:
            return 0.0
        return -math.expm1(8 * psdu_bytes * math.log1p(-ber))


class BpskErrorModel(ErrorModel):
    """802.15.4 868/915 MHz BPSK: BER = Q(sqrt(10*SINR)) = erfc(sqrt(5*SINR)) / 2."""

    kind = "bpsk-802.15.4"

    def bit_error_rate(self, sinr_db: float) -> float:
        return 0.5 * math.erfc(math.sqrt(5.0 * 10.0 ** (sinr_db / 10.0)))

    def frame_error_rate(self, sinr_db: float, psdu_bytes: int) -> float:
        ber = 0.5 * math.erfc(math.sqrt(5.0 * 10.0 ** (sinr_db / 10.0)))
        if ber <= 0.0:
            return 0.0
        return -math.expm1(8 * psdu_bytes * math.log1p(-ber))


class ThresholdErrorModel(ErrorModel):
    """All-or-nothing: the frame survives when SINR >= ``threshold_db``."""

    kind = "snr-threshold"

    def __init__(self, threshold_db: float) -> None:
        self.threshold_db = float(threshold_db)

    def bit_error_rate(self, sinr_db: float) -> float:
        return 0.0 if sinr_db >= self.threshold_db else 0.5

    def frame_error_rate(self, sinr_db: float, psdu_bytes: int) -> float:
        return 0.0 if sinr_db >= self.threshold_db else 1.0

    def describe(self) -> str:
        return f"{self.kind} {self.threshold_db:g} dB"


def sinr_for_per(model: ErrorModel, per: float, psdu_bytes: int,
                 lo_db: float = -30.0, hi_db: float = 40.0) -> float:
    """SINR (dB) at which ``model`` loses a ``psdu_bytes`` frame with probability ``per``
    (bisection; the models are monotone). Used to tie noise floors to datasheet sensitivities,
    which 802.15.4-2006 6.1.7 defines as PER < 1 % for a 20-octet PSDU."""
    if isinstance(model, ThresholdErrorModel):
        return model.threshold_db
    for _ in range(100):
        mid = 0.5 * (lo_db + hi_db)
        if model.frame_error_rate(mid, psdu_bytes) > per:
            lo_db = mid
        else:
            hi_db = mid
    return hi_db
