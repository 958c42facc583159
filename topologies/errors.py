"""The one exception of :mod:`meshnet.topologies`."""


class TopologyError(ValueError):
    """A placement request or a topology file is invalid. The message is one line that names the
    setting or the file and says what is wrong."""
