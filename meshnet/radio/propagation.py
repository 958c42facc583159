"""Propagation models: distance in, median received power out (plus optional shadowing).

``rx_power_dbm`` is on the simulator's hot path: each model folds frequency, antenna gains and
system loss into one constant at construction, so a call is a log10 and a multiply-add.

Models
------
``friis``         free space, ``Pr = Pt Gt Gr lambda^2 / ((4 pi d)^2 L)``.
``two-ray``       ns-2 TwoRayGround: Friis up to the crossover distance
                  ``dc = 4 pi ht hr / lambda``, then ``Pr = Pt Gt Gr ht^2 hr^2 / (d^4 L)``
                  (continuous at ``dc``). Antennas 1.5 m high by default, as in ns-2.
``log-distance``  ``Pr(d) = Pr_friis(d0) - 10 beta log10(d / d0)`` beyond ``d0`` (Friis
                  inside), with optional log-normal shadowing of ``sigma_db``.
``unit-disk``     received at full power within ``range_m``, nothing beyond (teaching, tests).

Presets (log-distance, ``d0`` = 1 m, reference loss from Friis)
--------------------------------------------------------------
``outdoor``  beta = 2.5, sigma = 4 dB. Open ground with the ground reflection and low antennas
             that make real links fall off faster than free space (beta 2 would give the
             default ZigBee radio ~560 m); 2.5 lies in the 2.5-2.7 band quoted for such links and
             puts ZigBee at 0 dBm / -95 dBm at ~160 m, inside the "100-300 m line of sight"
             vendors quote. sigma = 4 dB is the low end of the 4-12 dB outdoor range in the
             ns-2 shadowing table (open terrain).
``indoor``   beta = 4.5, sigma = 7 dB. "In building, obstructed" is beta 4-6 (Rappaport,
             Wireless Communications, table 4.2; ns-2 shadowing table); 4.5 gives ZigBee
             ~17 m and the Z-Wave profiles 26-37 m, matching the 10-20 m and ~30 m per hop
             that homes see. sigma = 7 dB is the ns-2 table's office (hard partition) value.
             (beta = 4 would give ZigBee ~24 m but Z-Wave 39-59 m.)

Every model works in dB; distances are metres; the median is deterministic and shadowing is a
separate draw (``shadowing_db``) the engine adds per frame or per link as it chooses.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .profiles import RadioConfigError, RadioProfile, get_profile

__all__ = [
    "Propagation", "PropagationError", "FriisPropagation", "TwoRayGroundPropagation",
    "LogDistancePropagation", "UnitDiskPropagation", "make_propagation", "PROPAGATION_NAMES",
    "PRESETS",
]


class PropagationError(RadioConfigError):
    """Unknown propagation model, unknown or bad override, or a bad distance."""


_FOUR_PI = 4.0 * math.pi
_C = 299_792_458.0
NEG_INF = float("-inf")

# Preset name -> (model, parameters). Documented in the module docstring.
PRESETS: dict[str, dict[str, float]] = {
    "outdoor": {"exponent": 2.5, "sigma_db": 4.0, "d0": 1.0},
    "indoor": {"exponent": 4.5, "sigma_db": 7.0, "d0": 1.0},
}
DEFAULT_UNIT_DISK_RANGE_M = 100.0
NS2_ANTENNA_HEIGHT_M = 1.5      # ns-2 Antenna/OmniAntenna Z_


def _number(model: str, key: str, value: Any, *, minimum: float | None = None,
            strictly: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise PropagationError(f"propagation {model!r}: {key} = {value!r} is not a number")
    value = float(value)
    if minimum is not None and (value < minimum or (strictly and value == minimum)):
        op = ">" if strictly else ">="
        raise PropagationError(f"propagation {model!r}: {key} = {value!r} must be {op} {minimum}")
    return value


class Propagation:
    """Base class. Subclasses set ``name`` and implement ``rx_power_dbm`` and ``range_m``."""

    name = "base"
    #: override keys accepted by make_propagation, with defaults
    params: dict[str, float] = {}

    def __init__(self, profile: RadioProfile, *, system_loss: float = 1.0,
                 tx_gain_dbi: float = 0.0, rx_gain_dbi: float = 0.0,
                 sigma_db: float = 0.0) -> None:
        self.profile = profile
        self.frequency_hz = profile.frequency_hz
        self.wavelength_m = _C / profile.frequency_hz
        self.system_loss = _number(self.name, "system_loss", system_loss, minimum=0.0,
                                   strictly=True)
        self.tx_gain_dbi = _number(self.name, "tx_gain_dbi", tx_gain_dbi)
        self.rx_gain_dbi = _number(self.name, "rx_gain_dbi", rx_gain_dbi)
        self.sigma_db = _number(self.name, "sigma_db", sigma_db, minimum=0.0)
        # Friis as a dB constant: Pr = Pt + friis_k - 20 log10(d)
        self._gains_db = self.tx_gain_dbi + self.rx_gain_dbi - 10.0 * math.log10(self.system_loss)
        self._friis_k = 20.0 * math.log10(self.wavelength_m / _FOUR_PI) + self._gains_db
        # Friis is meaningless inside lambda / (4 pi) (it would amplify): clamp there.
        self._near_m = self.wavelength_m / _FOUR_PI

    # ----------------------------------------------------------------- per frame
    def rx_power_dbm(self, tx_power_dbm: float, distance_m: float) -> float:
        """Median received power (dBm) at ``distance_m`` metres. Deterministic."""
        raise NotImplementedError

    def shadowing_db(self, rng: Any) -> float:
        """One log-normal shadowing draw in dB (0.0 when sigma is 0). ``rng`` is a
        ``random.Random`` or a numpy ``Generator``."""
        sigma = self.sigma_db
        if sigma <= 0.0:
            return 0.0
        gauss = getattr(rng, "gauss", None)
        if gauss is not None:
            return gauss(0.0, sigma)
        return float(rng.normal(0.0, sigma))

    def path_loss_db(self, distance_m: float) -> float:
        """Median loss (dB) between transmit and receive power, gains included."""
        return -self.rx_power_dbm(0.0, distance_m)

    # ----------------------------------------------------------------- derived ranges
    def range_m(self, tx_power_dbm: float, threshold_dbm: float) -> float:
        """Distance at which the median received power falls to ``threshold_dbm``
        (bisection; subclasses give closed forms)."""
        if self.rx_power_dbm(tx_power_dbm, self._near_m) < threshold_dbm:
            return 0.0
        lo, hi = self._near_m, 1.0
        while self.rx_power_dbm(tx_power_dbm, hi) >= threshold_dbm:
            lo, hi = hi, hi * 2.0
            if hi > 1e9:
                return math.inf
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if self.rx_power_dbm(tx_power_dbm, mid) >= threshold_dbm:
                lo = mid
            else:
                hi = mid
        return lo

    def max_range_m(self, tx_power_dbm: float | None = None,
                    profile: RadioProfile | None = None) -> float:
        """Farthest distance at which a frame can still matter to anyone: carrier sense,
        reception or interference, with a 3-sigma shadowing margin. Defaults: the profile's
        highest transmit power. The simulator sizes its spatial grid with it."""
        p = profile or self.profile
        tx = p.tx_power_max_dbm if tx_power_dbm is None else tx_power_dbm
        floor = min(p.interference_floor_dbm, p.cs_threshold_dbm, p.sensitivity_dbm)
        return self.range_m(tx + 3.0 * self.sigma_db, floor)

    def _check_distance(self, distance_m: float) -> None:
        if not distance_m >= 0.0:  # also catches NaN
            raise PropagationError(f"distance must be >= 0 m, got {distance_m!r}")

    def describe(self) -> dict[str, Any]:
        """Parameters for display (``meshnet radios``, the TUI)."""
        out: dict[str, Any] = {"model": self.name}
        for key in self.params:
            out[key] = getattr(self, key)
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "model")
        return f"<{self.name} {self.profile.name} {args}>"


class FriisPropagation(Propagation):
    name = "friis"
    params = {"system_loss": 1.0, "tx_gain_dbi": 0.0, "rx_gain_dbi": 0.0, "sigma_db": 0.0}

    def rx_power_dbm(self, tx_power_dbm: float, distance_m: float) -> float:
        if distance_m < self._near_m:
            self._check_distance(distance_m)
            distance_m = self._near_m
        return tx_power_dbm + self._friis_k - 20.0 * math.log10(distance_m)

    def range_m(self, tx_power_dbm: float, threshold_dbm: float) -> float:
        d = 10.0 ** ((tx_power_dbm + self._friis_k - threshold_dbm) / 20.0)
        return d if d >= self._near_m else 0.0


class TwoRayGroundPropagation(FriisPropagation):
    """ns-2 ``Propagation/TwoRayGround`` (tworayground.cc): Friis below the crossover."""

    name = "two-ray"
    params = {"tx_height_m": NS2_ANTENNA_HEIGHT_M, "rx_height_m": NS2_ANTENNA_HEIGHT_M,
              "system_loss": 1.0, "tx_gain_dbi": 0.0, "rx_gain_dbi": 0.0, "sigma_db": 0.0}

    def __init__(self, profile: RadioProfile, *, tx_height_m: float = NS2_ANTENNA_HEIGHT_M,
                 rx_height_m: float = NS2_ANTENNA_HEIGHT_M, **common: float) -> None:
        super().__init__(profile, **common)
        self.tx_height_m = _number(self.name, "tx_height_m", tx_height_m, minimum=0.0,
                                   strictly=True)
        self.rx_height_m = _number(self.name, "rx_height_m", rx_height_m, minimum=0.0,
                                   strictly=True)
        self.crossover_m = _FOUR_PI * self.tx_height_m * self.rx_height_m / self.wavelength_m
        # Pr = Pt + tworay_k - 40 log10(d) beyond the crossover
        self._tworay_k = 20.0 * math.log10(self.tx_height_m * self.rx_height_m) + self._gains_db

    def rx_power_dbm(self, tx_power_dbm: float, distance_m: float) -> float:
        if distance_m >= self.crossover_m:
            return tx_power_dbm + self._tworay_k - 40.0 * math.log10(distance_m)
        return super().rx_power_dbm(tx_power_dbm, distance_m)

    def range_m(self, tx_power_dbm: float, threshold_dbm: float) -> float:
        d = super().range_m(tx_power_dbm, threshold_dbm)
        if d < self.crossover_m:
            return d
        return 10.0 ** ((tx_power_dbm + self._tworay_k - threshold_dbm) / 40.0)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["crossover_m"] = self.crossover_m
        return out


class LogDistancePropagation(FriisPropagation):
    """Log-distance path loss, reference loss from Friis at ``d0``, Friis inside ``d0``."""

    name = "log-distance"
    params = {"exponent": 2.0, "d0": 1.0, "sigma_db": 0.0, "system_loss": 1.0,
              "tx_gain_dbi": 0.0, "rx_gain_dbi": 0.0}

    def __init__(self, profile: RadioProfile, *, exponent: float = 2.0, d0: float = 1.0,
                 preset: str | None = None, **common: float) -> None:
        super().__init__(profile, **common)
        self.preset = preset
        self.exponent = _number(self.label, "exponent", exponent, minimum=0.0, strictly=True)
        self.d0 = _number(self.label, "d0", d0, minimum=0.0, strictly=True)
        if self.d0 < self._near_m:
            raise PropagationError(
                f"propagation {self.label!r}: d0 = {self.d0!r} m is inside the near field "
                f"(lambda/4pi = {self._near_m:.3g} m)")
        self._n10 = 10.0 * self.exponent
        # Pr = Pt + k - 10 beta log10(d), with k chosen so that Pr(d0) is Friis at d0
        self._k = self._friis_k - 20.0 * math.log10(self.d0) + self._n10 * math.log10(self.d0)

    @property
    def label(self) -> str:
        return getattr(self, "preset", None) or self.name

    def rx_power_dbm(self, tx_power_dbm: float, distance_m: float) -> float:
        if distance_m >= self.d0:
            return tx_power_dbm + self._k - self._n10 * math.log10(distance_m)
        return super().rx_power_dbm(tx_power_dbm, distance_m)

    def range_m(self, tx_power_dbm: float, threshold_dbm: float) -> float:
        d = super().range_m(tx_power_dbm, threshold_dbm)
        if d < self.d0:
            return d
        return 10.0 ** ((tx_power_dbm + self._k - threshold_dbm) / self._n10)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.preset:
            out["model"] = self.preset
            out["base"] = self.name
        return out


class UnitDiskPropagation(Propagation):
    """Full transmit power inside ``range_m``, -inf dBm (nothing) beyond. Ignores thresholds:
    every frame inside the disk is heard, none outside is, not even as interference."""

    name = "unit-disk"
    params = {"range_m": DEFAULT_UNIT_DISK_RANGE_M}

    def __init__(self, profile: RadioProfile, *,
                 range_m: float = DEFAULT_UNIT_DISK_RANGE_M) -> None:
        super().__init__(profile)
        self.disk_m = _number(self.name, "range_m", range_m, minimum=0.0, strictly=True)

    def rx_power_dbm(self, tx_power_dbm: float, distance_m: float) -> float:
        if distance_m <= self.disk_m:
            if distance_m < 0.0:
                self._check_distance(distance_m)
            return tx_power_dbm
        return NEG_INF

    def range_m(self, tx_power_dbm: float, threshold_dbm: float) -> float:
        return self.disk_m if tx_power_dbm >= threshold_dbm else 0.0

    def max_range_m(self, tx_power_dbm: float | None = None,
                    profile: RadioProfile | None = None) -> float:
        return self.disk_m

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "range_m": self.disk_m}


_MODELS: dict[str, Callable[..., Propagation]] = {
    "two-ray": TwoRayGroundPropagation,
    "friis": FriisPropagation,
    "log-distance": LogDistancePropagation,
    "unit-disk": UnitDiskPropagation,
}
PROPAGATION_NAMES: tuple[str, ...] = ("two-ray", "friis", "log-distance", "unit-disk",
                                      "outdoor", "indoor")


def make_propagation(model: str, profile: RadioProfile | str, **overrides: Any) -> Propagation:
    """Build a propagation model for ``profile``. ``model`` is one of PROPAGATION_NAMES;
    ``overrides`` set its parameters (``range_m``, ``exponent``, ``sigma_db``, ``d0``,
    ``system_loss``, ``tx_height_m``/``rx_height_m`` or ``antenna_height_m`` for both, gains)."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    if model in PRESETS:
        cls: Any = LogDistancePropagation
        params = dict(PRESETS[model])
        preset: str | None = model
    elif model in _MODELS:
        cls = _MODELS[model]
        params = {}
        preset = None
    else:
        raise PropagationError(
            f"unknown propagation model {model!r}; allowed: {', '.join(PROPAGATION_NAMES)}")
    overrides = dict(overrides)
    if "antenna_height_m" in overrides and cls is TwoRayGroundPropagation:
        h = overrides.pop("antenna_height_m")
        overrides.setdefault("tx_height_m", h)
        overrides.setdefault("rx_height_m", h)
    allowed = set(cls.params)
    bad = sorted(set(overrides) - allowed)
    if bad:
        extra = ", antenna_height_m" if cls is TwoRayGroundPropagation else ""
        raise PropagationError(
            f"unknown parameter(s) {', '.join(bad)} for propagation {model!r}; allowed: "
            f"{', '.join(sorted(allowed))}{extra}")
    params.update(overrides)
    if preset:
        params["preset"] = preset
    return cls(profile, **params)
