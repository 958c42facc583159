"""Upper and lower bounds shared by the scenario, mobility and traffic checks.

Every number a user gives has a documented range (docs/scenarios.md). These bounds are what keep
a run finite and its arithmetic exact: virtual time in float64 seconds, legs planned as time
advances, and no value that overflows a float on its way through the radio model.
"""

MAX_DURATION = 1e8
"""Seconds (about 3.2 years). At t = 1e8 s a float64 still resolves 15 ns, well below the
shortest MAC timing (802.11's 10 µs SIFS); at 1e12 s it would be 122 µs."""

MIN_PERIOD = 1e-3
"""Seconds: the shortest period of a repeating scenario timer (link sampling). Shorter periods
only cost time, and one below the float resolution of the current time would stop it."""

MAX_SPEED = 1000.0
"""m/s: faster than anything a mesh radio rides on (an airliner cruises at ~250 m/s). With the
1 m smallest area side (``mobility.MIN_EXTENT``), a node bounces at most every millisecond."""

MAX_EXTENT = 1e6
"""Metres: the largest area side, spacing or radio range (1000 km)."""

MAX_FLOWS = 100_000
"""Traffic flows in one scenario, all ``[[traffic]]`` entries together."""
