"""Terminal UI (Textual): `meshnet tui` shows nodes moving, links changing and routes being found
and broken, on the simulator or on a live namespace emulation.

The UI consumes the event bus and a read-only view of the engine (:mod:`meshnet.tui.view`); the
engine never imports it.
"""
