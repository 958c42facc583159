"""The one exception of :mod:`meshnet.mobility`."""


class MobilityError(ValueError):
    """A mobility model, parameter or trace is invalid. The message is one line."""
