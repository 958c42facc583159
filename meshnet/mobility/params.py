"""Validation of mobility parameters, the area and initial positions, with one-line errors that
name the key, the bad value and what is allowed."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from meshnet.geometry import Area, Point, clamp, inside, is_number
from meshnet.geometry import check_area as geometry_check_area
from meshnet.limits import MAX_DURATION, MAX_EXTENT, MAX_SPEED

from .errors import MobilityError

AREA_TOLERANCE = 1e-6
"""Metres a given position may lie outside the area (rounding in the caller's arithmetic)."""


@dataclass(frozen=True, slots=True)
class _Param:
    default: Any
    kind: str = "number"  # "number" | "bool" | "points" | "path"
    low: float = 0.0
    high: float = math.inf
    strict_low: bool = False
    optional: bool = False  # None (or absent) means "derive a default"

    def allowed(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if self.kind == "points":
            return "per-node lists of [t, x, y]"
        if self.kind == "path":
            return "the path of an ns-2 movement trace"
        low = f"a number {'>' if self.strict_low else '>='} {_fmt(self.low)}"
        if self.high == math.inf:
            return low
        if self.high <= 1.0:  # a fraction reads best as an interval
            return f"a number in [{_fmt(self.low)}, {_fmt(self.high)}]"
        return f"{low} and <= {_fmt(self.high)}"


def _fmt(value: float) -> str:
    return f"{value:g}"


_STEP = dict(low=0.1, high=MAX_DURATION)  # course changes more often than every 0.1 s only
# cost time
_SPEED = dict(high=MAX_SPEED)
_TIME = dict(high=MAX_DURATION)

_PARAMS: dict[str, dict[str, _Param]] = {
    "static": {},
    "random-waypoint": {
        "min_speed": _Param(0.0, **_SPEED),
        "max_speed": _Param(20.0, **_SPEED),
        "pause": _Param(0.0, **_TIME),
        "steady_state": _Param(False, kind="bool"),
    },
    "random-walk": {
        "min_speed": _Param(0.0, **_SPEED),
        "max_speed": _Param(5.0, **_SPEED),
        "interval": _Param(10.0, **_STEP),
    },
    "gauss-markov": {
        "mean_speed": _Param(5.0, **_SPEED),
        "alpha": _Param(0.75, high=1.0),
        "interval": _Param(1.0, **_STEP),
        "sigma_speed": _Param(1.0, **_SPEED),
        "sigma_dir": _Param(0.5, high=100.0),  # radians; the heading wraps
        "edge_margin": _Param(None, optional=True, high=MAX_EXTENT),
        "max_speed": _Param(None, optional=True, **_SPEED),
    },
    "waypoints": {"points": _Param((), kind="points")},
    "ns2-trace": {"trace": _Param(None, kind="path")},
}


def model_parameters(model: str) -> dict[str, Any]:
    """The parameters ``model`` accepts and their defaults (None: derived from others, or
    required), e.g. for listing them in the CLI."""
    return {key: param.default for key, param in _PARAMS[model].items()}


def bad_value(key: str, value: Any, allowed: str) -> MobilityError:
    return MobilityError(f"mobility.{key} = {value!r} is not allowed: expected {allowed}")


def resolve_params(model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``params`` against the model's table and fill in defaults."""
    spec = _PARAMS[model]
    for key in params:
        if key == "model":
            continue
        if key not in spec:
            allowed = ", ".join(spec) if spec else "none"
            raise MobilityError(
                f"unknown mobility parameter {key!r} for model {model!r}; allowed: {allowed}"
            )
    values: dict[str, Any] = {}
    for key, param in spec.items():
        value = params.get(key, param.default)
        if param.kind == "number":
            if value is None and param.optional:
                values[key] = None
                continue
            if not is_number(value):
                raise bad_value(key, value, param.allowed())
            value = float(value)
            too_low = value <= param.low if param.strict_low else value < param.low
            if too_low or value > param.high:
                raise bad_value(key, value, param.allowed())
        elif param.kind == "bool":
            if not isinstance(value, bool):
                raise bad_value(key, value, param.allowed())
        elif param.kind == "path":
            if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
                if value is None:
                    raise MobilityError(
                        f"mobility.trace is required for model {model!r}: "
                        "expected the path of an ns-2 movement trace"
                    )
                raise bad_value(key, value, param.allowed())
        values[key] = value
    if "min_speed" in values and values["min_speed"] > values["max_speed"]:
        raise MobilityError(
            f"mobility.min_speed = {values['min_speed']:g} is not allowed: expected a number "
            f"<= max_speed ({values['max_speed']:g})"
        )
    if model == "gauss-markov":
        cap = values["max_speed"]
        if cap is not None and cap < values["mean_speed"]:
            raise bad_value("max_speed", cap, f"a number >= mean_speed ({values['mean_speed']:g})")
    return values


def check_area(area: Sequence[float]) -> Area:
    return geometry_check_area(area, MobilityError)


def check_initial(initial: Sequence[Sequence[float]], area: Area) -> list[Point]:
    starts: list[Point] = []
    for index, point in enumerate(initial):
        try:
            x, y = point
        except (TypeError, ValueError):
            raise MobilityError(
                f"initial position of node {index} = {point!r} is not allowed: expected (x, y)"
            ) from None
        if not (is_number(x) and is_number(y)):
            raise MobilityError(
                f"initial position of node {index} = {point!r} is not allowed: expected numbers"
            )
        if not inside((x, y), area, AREA_TOLERANCE):
            raise MobilityError(
                f"initial position of node {index} = ({x:g}, {y:g}) lies outside the area "
                f"{area[0]:g} x {area[1]:g}"
            )
        starts.append((clamp(float(x), 0.0, area[0]), clamp(float(y), 0.0, area[1])))
    return starts
