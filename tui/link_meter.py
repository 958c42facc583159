"""Live quality of every link: the share of frames it delivered over the last few simulated
seconds, so that shadowing, collisions and interference show on the map as they happen.

The meter listens where the medium reports each finished frame to its sender
(``Station.on_tx_end(frame, receivers, ok, reason)``, :mod:`meshnet.medium.base`) and counts,
per directed link (sender, receiver):

* a unicast: its attempts (one, plus the retransmissions the sender's MAC made for it) and one
  success if it got through;
* a broadcast: one attempt for every node the sender reaches now (the medium's ``links()``,
  shadowing included) and one success for every node that decoded it.

Few frames say little, so the ratio starts from the medium's own error rate for the link
(``1 - FER`` of a short frame at its shadowed power, no interference), weighed as
:data:`PRIOR_FRAMES` frames: a link nobody used shows that, a busy link shows what it delivered. Counting only wraps the
stations' report; the frames, their order and the run are unchanged.

Other counters that need every finished frame (per-node forwarding counts, the packet
animation) register in :attr:`LinkMeter.listeners` instead of tapping the stations again.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Sequence


WINDOW_S = 5.0        # simulated seconds of frames a link's ratio is computed over
BUCKET_S = 1.0        # the window moves in steps of this many seconds
PRIOR_FRAMES = 2.0    # the medium's error rate weighs as much as this many frames
REFRESH_S = 1.0       # simulated seconds between two reads of the medium's link set


FrameListener = Callable[[float, int, Any, list, bool], None]  # (t, sender, frame, receivers, ok)


class LinkMeter:
    """Delivery ratio per directed link over the last :data:`WINDOW_S` simulated seconds.

    ``sim`` is the medium's host (the simulation, or an adapter on netns): ``n``, ``nodes``
    (``alive``), ``sched.now``, ``channel`` (the medium) and, for the unit-disk medium, ``links``.
    With ``tap`` the meter wraps each station's ``on_tx_end``; otherwise the owner calls
    :meth:`record` for every finished frame."""

    def __init__(self, sim: Any, macs: Sequence[Any] | None = None, tap: bool = True) -> None:
        self.sim = sim
        self._macs = list(macs) if macs is not None else [node.mac for node in sim.nodes]
        self.listeners: list[FrameListener] = []
        self._window: deque[dict[tuple[int, int], list[int]]] = deque(
            maxlen=int(round(WINDOW_S / BUCKET_S)))
        self._window.append({})
        self._total: dict[tuple[int, int], list[int]] = {}  # sums over the window
        self._bucket_end = BUCKET_S
        self._retx = [0] * sim.n
        self._reach: list[tuple[int, ...]] = [()] * sim.n  # who each node reaches (broadcasts)
        self.fer: dict[tuple[int, int], float] = {}  # directed link -> frame error rate
        self.pairs: list[tuple[int, int]] = []       # the links that exist, i < j
        self._links_at = -1.0
        self._originals: list[tuple[Any, Any]] = []
        if tap:
            for node in sim.nodes:
                self._tap(node)

    # --- counting (runs inside the engine) -----------------------------------------------------
    def _tap(self, node: Any) -> None:
        report = node.on_tx_end
        i = node.index
        record = self.record

        def on_tx_end(frame, receivers, ok, reason):
            record(i, frame, receivers, ok)
            report(frame, receivers, ok, reason)

        node.on_tx_end = on_tx_end
        self._originals.append((node, report))

    def close(self) -> None:
        """Stop counting: the stations report straight to their nodes again."""
        for node, report in self._originals:
            if node.__dict__.get("on_tx_end") is not None:
                del node.on_tx_end
        self._originals.clear()

    def record(self, i: int, frame: Any, receivers: list[int], ok: bool) -> None:
        """Node ``i``'s MAC is done with ``frame``: ``receivers`` decoded it, ``ok`` whether a
        unicast got through."""
        now = self.sim.sched.now
        for listener in self.listeners:
            listener(now, i, frame, receivers, ok)
        if now >= self._bucket_end:
            self._rotate(now)
        dst = frame.dst_index
        bucket = self._window[-1]
        total = self._total
        retx = getattr(self._macs[i], "retransmissions", 0)
        extra = retx - self._retx[i]
        self._retx[i] = retx
        if dst >= 0:
            sent = 1 + (extra if extra > 0 else 0)
            self._add(bucket, total, (i, dst), sent, 1 if ok and receivers else 0)
            return
        if not 0.0 <= now - self._links_at < REFRESH_S:
            self.refresh(now)
        heard = set(receivers)
        add = self._add
        for j in self._reach[i]:
            if j in heard:
                add(bucket, total, (i, j), 1, 1)
                heard.discard(j)
            else:
                add(bucket, total, (i, j), 1, 0)
        for j in heard:  # decoded although the medium's link set leaves it out (shadowing)
            add(bucket, total, (i, j), 1, 1)

    @staticmethod
    def _add(bucket: dict, total: dict, key: tuple[int, int], sent: int, got: int) -> None:
        c = bucket.get(key)
        if c is None:
            bucket[key] = [sent, got]
        else:
            c[0] += sent
            c[1] += got
        c = total.get(key)
        if c is None:
            total[key] = [sent, got]
        else:
            c[0] += sent
            c[1] += got

    def _rotate(self, now: float) -> None:
        """Start a new bucket; the oldest leaves the window and its counts leave the totals."""
        if now - self._bucket_end >= WINDOW_S:  # a long jump: the whole window is stale
            self._window.clear()
            self._total.clear()
            self._bucket_end += (now - self._bucket_end) // BUCKET_S * BUCKET_S
        window = self._window
        total = self._total
        while now >= self._bucket_end:
            if len(window) == window.maxlen:
                for key, (sent, got) in window[0].items():
                    c = total[key]
                    c[0] -= sent
                    c[1] -= got
                    if c[0] <= 0:
                        del total[key]
            window.append({})
            self._bucket_end += BUCKET_S

    # --- reading (from the view) -----------------------------------------------------------------
    def refresh(self, now: float | None = None, force: bool = False) -> None:
        """Read which directed links exist now and their error rates from the medium (at most
        every REFRESH_S simulated seconds unless ``force``)."""
        sim = self.sim
        now = sim.sched.now if now is None else now
        if not force and 0.0 <= now - self._links_at < REFRESH_S:
            return
        channel = sim.channel
        links = getattr(channel, "links", None)
        if links is None:  # unit disk: the sampled links that still hold, without loss
            reaches = getattr(channel, "reaches", None)
            fer = {}
            for i, j in sim.links:
                if (sim.nodes[i].alive and sim.nodes[j].alive
                        and (reaches is None or reaches(i, j, now))):
                    fer[(i, j)] = fer[(j, i)] = 0.0
        else:
            fer = links(now)  # a pure query of the medium: watching never changes the run
        self.fer = fer
        self.pairs = sorted({(i, j) if i < j else (j, i) for i, j in fer})
        self._links_at = now
        reach: list[list[int]] = [[] for _ in range(sim.n)]
        for i, j in fer:
            reach[i].append(j)
        self._reach = [tuple(r) for r in reach]

    def qualities(self) -> tuple[tuple[int, int, float], ...]:
        """Every link that exists with its live quality: the worse of its two directions'
        delivery ratios (a link is as good as its worse direction for a unicast and its ACK)."""
        self.tick()
        self.refresh()
        fer = self.fer.get
        total = self._total.get
        w = PRIOR_FRAMES
        out = []
        for i, j in self.pairs:  # ratio() twice, inlined: this runs for every picture
            f = fer((i, j))
            prior = 1.0 - f if f is not None else 0.0
            c = total((i, j))
            q = prior if c is None else (c[1] + w * prior) / (c[0] + w)
            f = fer((j, i))
            prior = 1.0 - f if f is not None else 0.0
            c = total((j, i))
            q2 = prior if c is None else (c[1] + w * prior) / (c[0] + w)
            out.append((i, j, q if q < q2 else q2))
        return tuple(out)

    def tick(self) -> None:
        """Move the window up to the engine's time (frames stopped coming, or time jumped)."""
        now = self.sim.sched.now
        if now >= self._bucket_end:
            self._rotate(now)

    def counts(self, i: int, j: int) -> tuple[int, int]:
        """(frames attempted, frames delivered) on the directed link ``i -> j`` in the window."""
        c = self._total.get((i, j))
        return (c[0], c[1]) if c is not None else (0, 0)

    def ratio(self, i: int, j: int, prior: float) -> float:
        """Delivered / attempted on ``i -> j``, starting from ``prior`` (1 - FER of the link)
        weighed as PRIOR_FRAMES frames."""
        c = self._total.get((i, j))
        if c is None:
            return prior
        return (c[1] + PRIOR_FRAMES * prior) / (c[0] + PRIOR_FRAMES)
