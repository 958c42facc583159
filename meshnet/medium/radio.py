"""The radio medium: received power, SINR reception, carrier sense and energy.

Lean by design (the reason meshnet runs Broch's 900 s scenario in seconds, not minutes):

* one event at the start and one at the end of every transmission, never per bit or per slot;
* the receivers of a transmission and their received powers are computed once, at its start,
  from the spatial grid, with log-normal shadowing. Shadowing is a large-scale effect (walls,
  furniture, terrain), so by default it is quasi-static: one draw per link (symmetric,
  deterministic from the seed) that holds for the run (``radio.shadowing = "link"``). With
  ``"frame"`` it is drawn anew for every frame, as ns-3's random propagation loss does, which
  makes every marginal link flicker;
* interference is summed analytically: every node keeps the total power arriving from active
  transmissions. A receiver locked onto a frame closes a "chunk" whenever that total changes, and
  multiplies the frame's survival probability by ``1 - PER(SINR of the chunk, its share of the
  PSDU)``. A frame with no change is judged once, on its whole PSDU;
* carrier sense compares the same total with the profile's CS threshold; MACs that count down
  (802.11 DCF) are told when their medium turns busy or idle, the others sample it (CCA).

Reception rules: a node locks onto the first frame whose (shadowed) power reaches its
sensitivity while it is neither transmitting nor already locked; later frames are interference
(no re-synchronisation onto a stronger frame). A node that starts transmitting loses the frame it
was receiving. Signals below the profile's interference floor are ignored.

Reach (the spatial-grid cell): the larger of the distance where the median power falls to the
interference floor and the distance where a frame two shadowing sigmas above the median still
reaches sensitivity. So receptions beyond the reach have probability below 2.3 %, and what is
cut off is at least 6 dB under the noise floor at the median. (Using ``max_range_m``'s 3-sigma
margin would make the cell 3-10x larger for sub-GHz profiles for no visible effect.)

Energy: per-node state time. TX at the node's transmit power for the frame's airtime, RX while a
node is locked onto a frame, idle otherwise (sleep is not used yet); each multiplied by
``profile.current_a(state) * voltage``. With ``nodes.battery_j > 0`` every node has a battery and
is killed (``host.kill(i, "battery")``) at the instant it runs empty.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Sequence

import numpy as np

from ..radio import Battery
from .base import Channel, Frame, Host
from .mac_base import IdealMac, RadioMac
from .mac_csma import CsmaCaMac
from .mac_dcf import DcfMac
from .mac_zwave import ZwaveMac
from .positions import PositionTable
from .spatial import SpatialGrid

_MAC_CLASSES = {"csma-ca": CsmaCaMac, "zwave": ZwaveMac, "dcf": DcfMac}
LINK_QUALITY_PSDU = 50      # bytes: the frame size link_quality() is quoted for
SHADOW_REACH_SIGMAS = 2.0   # reach covers receptions up to 2 sigma above the median (97.7 %)
_BATTERY_EMPTY_J = 1e-12    # remaining energy treated as zero (float rounding)
PAIRS_ALL_MAX = 4000        # nodes: beyond this, neighbour_pairs() asks the grid per node
PAIRS_BLOCK = 256           # rows of the all-pairs arithmetic per step (memory ~ 256 x n)


def _mw(dbm: float) -> float:
    return 10.0 ** (dbm / 10.0)


def _power_law(propagation) -> tuple[float, float, float]:
    """``(d_min^2, k, e)`` such that beyond ``d_min`` the median received power is
    ``Pt_mW * k / (d^2)^e`` -- true of Friis, two-ray beyond its crossover and log-distance
    beyond d0 -- so the hot path needs no logarithm. Checked against ``rx_power_dbm``; models
    that do not fit use ``rx_power_dbm`` everywhere (``d_min`` infinite)."""
    exponent = {"friis": 2.0, "two-ray": 4.0}.get(propagation.name,
                                                   getattr(propagation, "exponent", None))
    if exponent is None or propagation.name == "unit-disk":
        return math.inf, 0.0, 1.0
    d_min = max(getattr(propagation, "crossover_m", 0.0), getattr(propagation, "d0", 0.0),
                propagation.wavelength_m / (4 * math.pi))
    half = exponent / 2.0
    ref = 2.0 * d_min + 1.0
    k = _mw(propagation.rx_power_dbm(0.0, ref)) * ref ** exponent
    for d in (ref * 1.7, ref * 13.0, ref * 101.0):
        want = _mw(propagation.rx_power_dbm(0.0, d))
        if abs(k / (d * d) ** half - want) > 1e-9 * want:
            return math.inf, 0.0, 1.0
    return d_min * d_min, k, half


class Transmission:
    """One frame on the air: who sent it, when, and the power it puts on each nearby node."""

    __slots__ = ("sender", "dst", "psdu", "start", "end", "rx_j", "rx_p", "on_end", "entry",
                 "tx_j", "lost_collision", "lost_other", "overheard", "ptx")

    def __init__(self, sender: int, dst: int, psdu: int, start: float, end: float,
                 on_end: Callable) -> None:
        self.sender = sender
        self.dst = dst            # addressed node, -1 for broadcast
        self.psdu = psdu
        self.start = start
        self.end = end
        self.rx_j: list[int] = []     # nodes the frame reaches above the interference floor
        self.rx_p: list[float] = []   # its power at each of them, mW
        self.on_end = on_end
        self.entry = None             # the scheduler entry of the end event
        self.tx_j = 0.0               # energy drawn above idle while transmitting, J/s
        self.lost_collision = 0       # addressed receivers that lost it to interference
        self.lost_other = 0           # ... to noise (or to their own death)
        self.overheard: list[int] = []  # others locked onto a unicast until its end (NAV)
        self.ptx = 0.0                # transmit power, dBm


class RadioChannel(Channel):
    """SINR channel with per-profile MAC. See the module docstring for the model."""

    def __init__(self, host: Host, profile, propagation, use_mac: bool = True,
                 shadowing: str = "link", battery_j: float | list[float] = 0.0) -> None:
        self.host = host
        self.profile = profile
        self.propagation = propagation
        self.use_mac = use_mac
        self.n = n = host.n
        self.rng = random.Random(f"{host.seed}:channel")
        self._rx_dbm = propagation.rx_power_dbm
        self._sigma = propagation.sigma_db
        self.frame_shadowing = shadowing == "frame"
        self._gauss = self.rng.gauss if self.frame_shadowing else self._link_shadow
        self._link_db: dict[tuple[int, int], float] = {}
        self._link_pair: tuple[int, int] = (0, 0)
        self._fer = profile.frame_error_rate
        self.sens_dbm = profile.sensitivity_dbm
        self.floor_dbm = min(profile.interference_floor_dbm, profile.cs_threshold_dbm,
                             profile.sensitivity_dbm)
        self.noise_mw = _mw(profile.noise_floor_dbm)
        self.cs_mw = _mw(profile.cs_threshold_dbm)
        self._clean_mw = self.noise_mw * 1e-9  # interference below this is rounding residue
        tx_powers = [node.tx_power for node in host.nodes] or [profile.tx_power_dbm]
        top = max(*tx_powers, profile.tx_power_max_dbm)  # frames may be sent at any level
        self.reach = max(propagation.range_m(top, self.floor_dbm),
                         propagation.range_m(top + SHADOW_REACH_SIGMAS * self._sigma,
                                             self.sens_dbm), 1e-3)
        self.reach2 = self.reach * self.reach
        self.grid = SpatialGrid(self.reach, host.max_speed)
        self._static_pairs: tuple | None = None  # (what it depends on, the pairs), nothing moving
        self._pos = [traj.position for traj in host.trajectories]
        self._table = PositionTable(host.trajectories)
        self._law = _power_law(propagation)
        self.floor_mw = _mw(self.floor_dbm)
        self.sens_mw = _mw(self.sens_dbm)
        self._rx_range2: dict[float, float] = {}
        self._frag_cache: dict[int, list[int]] = {}
        self.blocked: set[tuple[int, int]] = set()  # directed pairs cut by hand (no frames)
        self.power_levels = profile.power_levels
        # --- PHY state per node
        self.incoming = [0.0] * n         # mW arriving from active transmissions
        self.n_incoming = [0] * n
        self.cs_busy = [False] * n        # incoming >= CS threshold
        self.busy_since = [0.0] * n
        self.idle_since = [0.0] * n       # last time the carrier went idle (or own tx ended)
        self.nav_until = [0.0] * n        # 802.11 virtual carrier sense
        self.transmitting: list[Transmission | None] = [None] * n
        self.lock: list[Transmission | None] = [None] * n
        self.lock_p = [0.0] * n           # mW of the frame being received
        self.lock_t = [0.0] * n           # start of the current chunk
        self.lock_t0 = [0.0] * n          # start of the reception
        self.lock_surv = [1.0] * n        # survival probability of the chunks so far
        self.lock_dirty = [False] * n     # interference changed during the reception
        self.rx_mw = [0.0] * n            # power of the last frame each node decoded (RSSI)
        self.notify: list = [None] * n    # MACs that want busy/idle callbacks (DCF)
        self.macs: list = [None] * n
        # --- counters (per frame; see stats())
        self.frames = 0
        self.acks = 0
        self.rx_ok = 0
        self.lost_collision = 0
        self.lost_noise = 0
        self.lost_busy = 0
        self.reached = 0                  # receivers above the interference floor, all frames
        # --- energy
        cur = profile.currents
        v = cur.voltage
        self.p_idle = cur.idle_a * v
        self.dp_rx = cur.rx_a * v - self.p_idle
        self._tx_power = tx_powers
        self._tx_costs: dict[float, float] = {}
        self.dp_tx = [cur.tx_a(p) * v - self.p_idle for p in tx_powers]
        self.alive_s = [0.0] * n          # alive time before alive_since
        self.alive_since: list[float | None] = [0.0] * n
        self.extra_j = [0.0] * n          # energy above idle of finished TX/RX periods
        # one capacity for every node, or one per node; 0 = no battery (unlimited)
        caps = ([float(b or 0.0) for b in battery_j] if isinstance(battery_j, (list, tuple))
                else [float(battery_j or 0.0)] * n)
        self.batteries: list[Battery | None] | None = (
            [Battery(c) if c > 0 else None for c in caps] if any(c > 0 for c in caps) else None)
        self.drained_j = [0.0] * n        # taken by drain faults, not drawn by the radio
        self._death_timer: list = [None] * n
        if self.batteries:
            for i in range(n):
                self._arm_battery(i)

    # ------------------------------------------------------------------ construction
    def _link_shadow(self, mu: float, sigma: float) -> float:
        """Quasi-static shadowing of the link ``self._link_pair``: one draw per unordered pair,
        from an RNG seeded by the run seed and the pair, so it does not depend on event order."""
        a, b = self._link_pair
        key = (a, b) if a < b else (b, a)
        db = self._link_db.get(key)
        if db is None:
            rng = random.Random((self.host.seed * 1_000_003 + key[0]) * 1_000_003 + key[1])
            db = self._link_db[key] = rng.gauss(mu, sigma)
        return db

    def moved(self) -> None:
        super().moved()
        self._table.invalidate()

    def _tx_cost(self, ptx: float) -> float:
        """Power drawn above idle while transmitting at ``ptx`` dBm (W)."""
        cost = self._tx_costs.get(ptx)
        if cost is None:
            cost = self._tx_costs[ptx] = (self.profile.current_a("tx", ptx) * self.profile.voltage
                                          - self.p_idle)
        return cost

    def make_mac(self, node) -> RadioMac:
        cls = _MAC_CLASSES[self.profile.mac] if self.use_mac else IdealMac
        mac = cls(self, node)
        self.macs[node.index] = mac
        return mac

    def fragments(self, size: int) -> list[int]:
        """PSDU sizes of the frames carrying a ``size``-byte packet (cached per size)."""
        sizes = self._frag_cache.get(size)
        if sizes is None:
            sizes = self._frag_cache[size] = self.profile.fragments(size)
        return sizes

    # ------------------------------------------------------------------ links (views)
    def _range2(self, tx_power: float) -> float:
        r2 = self._rx_range2.get(tx_power)
        if r2 is None:
            r = self.propagation.range_m(tx_power, self.sens_dbm)
            r2 = self._rx_range2[tx_power] = r * r
        return r2

    def neighbours(self, i: int, t: float) -> list[int]:
        """Nodes whose median power from ``i`` reaches sensitivity (median power falls with
        distance in every model, so this is a disk of the derived range)."""
        nodes = self.host.nodes
        x, y = self._pos[i](t)
        idx = self.grid.candidate_array(x, y, t, self.host.position, self.n)
        near = self._table.squared_distances(idx, x, y, t) <= self._range2(nodes[i].tx_power)
        blocked = self.blocked
        return [j for j in idx[near].tolist()
                if j != i and nodes[j].alive and not (blocked and (i, j) in blocked)]

    def neighbour_pairs(self, t: float) -> set[tuple[int, int]]:
        """As :meth:`neighbours` for every node, in blocks of all-pairs arithmetic (one
        position per node, bit-identical distances) instead of one grid query per node. Where
        nothing moves, the answer is kept until a node dies or revives, changes its power, is
        moved by hand or a link is cut (a 10,000-node grid asks every second)."""
        nodes = self.host.nodes
        n = self.n
        alive = np.fromiter((node.alive for node in nodes), bool, n)
        reach2 = np.fromiter((self._range2(node.tx_power) for node in nodes), float, n)
        key = None
        if self.host.max_speed == 0:
            key = (self.grid.rebuilds, self.grid._built_at, alive.tobytes(), reach2.tobytes(),
                   frozenset(self.blocked))
            if self._static_pairs is not None and self._static_pairs[0] == key:
                return set(self._static_pairs[1])
        if n > PAIRS_ALL_MAX:  # the square grows faster than the grid's queries
            found = super().neighbour_pairs(t)
        else:
            found = self._pairs_by_blocks(t, alive, reach2)
        if key is not None:
            self._static_pairs = (key, frozenset(found))
        return found

    def _pairs_by_blocks(self, t: float, alive: np.ndarray,
                         reach2: np.ndarray) -> set[tuple[int, int]]:
        n = self.n
        xs, ys = self._table.coordinates(t)
        columns = np.arange(n)
        found: set[tuple[int, int]] = set()
        for start in range(0, n, PAIRS_BLOCK):
            stop = min(n, start + PAIRS_BLOCK)
            dx = xs[None, :] - xs[start:stop, None]
            dy = ys[None, :] - ys[start:stop, None]
            ok = dx * dx + dy * dy <= reach2[start:stop, None]
            ok &= alive[None, :] & alive[start:stop, None]
            ok &= columns[None, :] > columns[start:stop, None]
            rows, cols = np.nonzero(ok)
            found.update(zip((rows + start).tolist(), cols.tolist()))
        if self.blocked:
            found = {pair for pair in found if pair not in self.blocked}
        return found

    def rx_power_dbm(self, j: int) -> float | None:
        """Received power (dBm, shadowing included) of the last frame node ``j`` decoded: the
        RSSI a radio reports with each frame, valid while the node handles that frame."""
        mw = self.rx_mw[j]
        return 10.0 * math.log10(mw) if mw > 0.0 else None

    def median_rx_dbm(self, i: int, j: int, t: float) -> float:
        xi, yi = self._pos[i](t)
        xj, yj = self._pos[j](t)
        return self._rx_dbm(self.host.nodes[i].tx_power, math.hypot(xi - xj, yi - yj))

    def link_quality(self, i: int, j: int, t: float) -> float:
        """1 - PER of a 50-byte frame at the median SNR of the link."""
        p = self.median_rx_dbm(i, j, t)
        if p < self.sens_dbm:
            return 0.0
        return 1.0 - self._fer(p - self.profile.noise_floor_dbm, LINK_QUALITY_PSDU)

    def links(self, t: float, psdu: int = LINK_QUALITY_PSDU) -> dict[tuple[int, int], float]:
        """Every directed link at time ``t`` with its frame error rate for a ``psdu``-byte
        frame without interference: pairs whose received power (with the link's shadowing in
        ``"link"`` mode, the median in ``"frame"`` mode) reaches sensitivity. This is what the
        medium applies to every frame on the link, on both backends. A pure query: it draws no
        random number and leaves the engine's spatial grid alone, so asking never changes a
        run."""
        host = self.host
        nodes = host.nodes
        noise = self.profile.noise_floor_dbm
        shadow = 0.0 if self.frame_shadowing else self._sigma  # never draws a random number
        grid = SpatialGrid(self.reach, host.max_speed)  # the engine's grid keeps its timing
        out: dict[tuple[int, int], float] = {}
        for i in range(self.n):
            if not nodes[i].alive:
                continue
            xi, yi = self._pos[i](t)
            for j in grid.candidates(xi, yi, t, host.position, self.n):
                if j == i or not nodes[j].alive or (i, j) in self.blocked:
                    continue
                xj, yj = self._pos[j](t)
                p = self._rx_dbm(nodes[i].tx_power, math.hypot(xi - xj, yi - yj))
                if shadow:
                    self._link_pair = (i, j)
                    p += self._gauss(0.0, shadow)
                if p >= self.sens_dbm:
                    out[(i, j)] = self._fer(p - noise, psdu)
        return out

    # ------------------------------------------------------------------ carrier sense
    def sensed_idle_since(self, i: int, now: float, detect_s: float) -> float | None:
        """When node ``i``'s medium went idle as the node perceives it, or None if busy.
        A carrier that appeared less than ``detect_s`` ago is not noticed yet."""
        if self.transmitting[i] is not None:
            return None
        if self.cs_busy[i] and now - self.busy_since[i] >= detect_s:
            return None
        nav = self.nav_until[i]
        if now < nav:
            return None
        idle = self.idle_since[i]
        return nav if nav > idle else idle

    def cca_busy(self, i: int, now: float, window_s: float) -> bool:
        """802.15.4 CCA mode 1 over the last ``window_s``: busy if energy above the threshold
        was present at any time in the window, or the node is transmitting."""
        return (self.transmitting[i] is not None or self.cs_busy[i]
                or self.idle_since[i] > now - window_s)

    # ------------------------------------------------------------------ transmissions
    def start_tx(self, i: int, psdu: int, dst: int, on_end: Callable,
                 duration: float | None = None, tx_power: float | None = None) -> Transmission:
        """Put a frame of ``psdu`` bytes from node ``i`` on the air now, at ``tx_power`` dBm
        (default: the node's); ``on_end(tx, decoded)`` runs when it ends with the nodes that
        received it intact."""
        host = self.host
        now = host.sched.now
        dur = self.profile.airtime(psdu) if duration is None else duration
        tx = Transmission(i, dst, psdu, now, now + dur, on_end)
        self.frames += 1
        if self.lock[i] is not None:
            self._drop_lock(i, now)
        self.transmitting[i] = tx
        node = host.nodes[i]
        ptx = node.tx_power if tx_power is None else tx_power
        tx.tx_j = self.dp_tx[i] if ptx == self._tx_power[i] else self._tx_cost(ptx)
        mac = self.notify[i]
        if mac is not None:
            mac.on_busy(now)
        if self.batteries:
            self._arm_battery(i)
        pos = self._pos
        x, y = pos[i](now)
        sigma = self._sigma
        gauss = self._gauss
        floor = self.floor_mw
        sens = self.sens_mw
        kk = self._law[1] * 10.0 ** (ptx * 0.1)
        nodes = host.nodes
        incoming = self.incoming
        n_incoming = self.n_incoming
        lock = self.lock
        transmitting = self.transmitting
        cs_mw = self.cs_mw
        cs_busy = self.cs_busy
        rx_j = tx.rx_j
        rx_p = tx.rx_p
        blocked = self.blocked
        tx.ptx = ptx
        js, pms = self._in_reach(i, x, y, now, ptx, kk)
        for j, pm in zip(js, pms):
            if not nodes[j].alive or (blocked and (i, j) in blocked):
                continue
            if sigma:
                self._link_pair = (i, j)
                pm *= 10.0 ** (gauss(0.0, sigma) * 0.1)
            if pm < floor:
                continue
            rx_j.append(j)
            rx_p.append(pm)
            if lock[j] is not None:
                self._chunk(j, now)
                if pm >= sens and (dst == j or dst < 0):
                    self.lost_busy += 1
                    tx.lost_collision += 1
            elif pm >= sens:
                if transmitting[j] is None:
                    lock[j] = tx
                    self.lock_p[j] = pm
                    self.lock_t[j] = self.lock_t0[j] = now
                    self.lock_surv[j] = 1.0
                    self.lock_dirty[j] = False
                    if self.batteries:
                        self._arm_battery(j)
                elif dst == j or dst < 0:
                    self.lost_busy += 1
                    tx.lost_collision += 1
            total = incoming[j] + pm
            incoming[j] = total
            n_incoming[j] += 1
            if not cs_busy[j] and total >= cs_mw:
                cs_busy[j] = True
                self.busy_since[j] = now
                mac = self.notify[j]
                if mac is not None:
                    mac.on_busy(now)
        self.reached += len(rx_j)
        tx.entry = host.sched.call_at(tx.end, self._end_tx, tx)
        return tx

    def _in_reach(self, i: int, x: float, y: float, now: float, ptx: float,
                  kk: float) -> tuple[list[int], list[float]]:
        """The grid's candidates around node ``i`` at (x, y) that lie within the reach, the
        sender left out, in the grid's order, with their median received powers (mW) for a
        frame sent at ``ptx`` dBm (``kk``: the power law's factor at that power). Beyond the
        law's ``d_min`` the powers are one vector operation; the few nearer nodes get the
        propagation model's own formula, as every node did before."""
        idx = self.grid.candidate_array(x, y, now, self.host.position, self.n)
        d2 = self._table.squared_distances(idx, x, y, now)
        near = d2 <= self.reach2
        near &= idx != i
        d2 = d2[near]
        js = idx[near].tolist()
        dmin2, _, half_exp = self._law
        if dmin2 == math.inf:  # no power law: every node by the model's formula
            pms = d2.tolist()
            close: Sequence[int] = range(len(pms))
        else:
            if half_exp == 2.0:
                pm = np.maximum(d2, dmin2)
                pm = kk / (pm * pm)
            else:
                pm = kk * np.maximum(d2, dmin2) ** -half_exp
            pms = pm.tolist()
            close = np.flatnonzero(d2 < dmin2).tolist()
        rxp = self._rx_dbm
        for k in close:
            pms[k] = 10.0 ** (rxp(ptx, math.sqrt(float(d2[k]))) * 0.1)
        return js, pms

    def _chunk(self, j: int, now: float) -> None:
        """The interference at locked receiver ``j`` is about to change: judge the part of the
        frame received since the last change."""
        t0 = self.lock_t[j]
        if now > t0:
            tx = self.lock[j]
            sig = self.lock_p[j]
            interf = self.incoming[j] - sig
            if interf < self._clean_mw:
                interf = 0.0
            else:
                self.lock_dirty[j] = True
            sinr_db = 10.0 * math.log10(sig / (self.noise_mw + interf))
            share = tx.psdu * (now - t0) / (tx.end - tx.start)
            self.lock_surv[j] *= 1.0 - self._fer(sinr_db, share)
            self.lock_t[j] = now

    def _drop_lock(self, j: int, now: float) -> None:
        """Node ``j`` stops receiving (it transmits or dies): the frame is lost to it."""
        tx = self.lock[j]
        self.lock[j] = None
        self.extra_j[j] += self.dp_rx * (now - self.lock_t0[j])
        if tx.dst == j or tx.dst < 0:
            self.lost_busy += 1
            tx.lost_collision += 1

    def _end_tx(self, tx: Transmission) -> None:
        host = self.host
        now = host.sched.now
        i = tx.sender
        tx.entry = None  # fired: drop the entry, which refers back to tx (no cycle to collect)
        self.transmitting[i] = None
        self.extra_j[i] += tx.tx_j * (now - tx.start)
        decoded = self._release(tx, now, judge=True)
        if not self.cs_busy[i]:
            self.idle_since[i] = now
        mac = self.notify[i]
        if mac is not None:
            mac.on_idle(now)
        tx.on_end(tx, decoded)

    def _release(self, tx: Transmission, now: float, judge: bool) -> list[int]:
        """Take ``tx``'s power off every node it reached; judge the receivers locked onto it."""
        decoded: list[int] = []
        incoming = self.incoming
        n_incoming = self.n_incoming
        lock = self.lock
        cs_busy = self.cs_busy
        cs_mw = self.cs_mw
        nodes = self.host.nodes
        dst = tx.dst
        for j, pm in zip(tx.rx_j, tx.rx_p):
            owner = lock[j]
            if owner is tx:
                if judge:
                    if dst < 0 or j == dst:
                        self._judge(j, tx, pm, now, decoded, nodes)
                    else:
                        tx.overheard.append(j)
                lock[j] = None
                self.extra_j[j] += self.dp_rx * (now - self.lock_t0[j])
            elif owner is not None:
                self._chunk(j, now)
            left = n_incoming[j] - 1
            n_incoming[j] = left
            total = incoming[j] - pm if left else 0.0
            incoming[j] = total
            if cs_busy[j] and total < cs_mw:
                cs_busy[j] = False
                self.idle_since[j] = now
                mac = self.notify[j]
                if mac is not None:
                    mac.on_idle(now)
        return decoded

    def _judge(self, j: int, tx: Transmission, pm: float, now: float, decoded: list[int],
               nodes) -> None:
        """The frame ``tx`` that ``j`` is locked onto ends: received intact or lost, and why."""
        if self.lock_t[j] == tx.start:  # interference never changed: judge the whole PSDU
            interf = self.incoming[j] - pm
            if interf < self._clean_mw:
                interf = 0.0
            else:
                self.lock_dirty[j] = True
            surv = 1.0 - self._fer(10.0 * math.log10(pm / (self.noise_mw + interf)), tx.psdu)
        else:
            self._chunk(j, now)
            surv = self.lock_surv[j]
        if surv >= 1.0 or (surv > 0.0 and self.rng.random() < surv):
            if nodes[j].alive:
                decoded.append(j)
                self.rx_ok += 1
                self.rx_mw[j] = pm
        elif self.lock_dirty[j]:
            self.lost_collision += 1
            tx.lost_collision += 1
        else:
            self.lost_noise += 1
            tx.lost_other += 1

    def abort_tx(self, i: int) -> None:
        """Node ``i`` stops radiating at once (it died): the frame is lost everywhere. Its
        ``on_end`` still runs, with no receiver: for an ACK it belongs to the other node's MAC,
        which would otherwise wait for it forever."""
        tx = self.transmitting[i]
        if tx is None:
            return
        sched = self.host.sched
        now = sched.now
        tx.entry.cancel()
        self.transmitting[i] = None
        self.extra_j[i] += tx.tx_j * (now - tx.start)
        self._release(tx, now, judge=False)
        self.idle_since[i] = now
        sched.call_at(now, tx.on_end, tx, [])

    # ------------------------------------------------------------------ ideal MAC path
    def ideal_tx(self, i: int, psdu: int, dst: int, on_end: Callable,
                 tx_power: float | None = None) -> Transmission:
        """Airtime only: no carrier sense, interference or collisions. Receivers are judged at
        the end of the frame on their SNR (shadowing and noise still apply)."""
        host = self.host
        now = host.sched.now
        tx = Transmission(i, dst, psdu, now, now + self.profile.airtime(psdu), on_end)
        tx.ptx = ptx = host.nodes[i].tx_power if tx_power is None else tx_power
        tx.tx_j = self.dp_tx[i] if ptx == self._tx_power[i] else self._tx_cost(ptx)
        self.frames += 1
        tx.entry = host.sched.call_at(tx.end, self._end_ideal, tx)
        self.transmitting[i] = tx
        return tx

    def _end_ideal(self, tx: Transmission) -> None:
        host = self.host
        now = host.sched.now
        i = tx.sender
        tx.entry = None
        self.transmitting[i] = None
        dur = now - tx.start
        self.extra_j[i] += tx.tx_j * dur
        pos = self._pos
        x, y = pos[i](now)
        ptx = tx.ptx
        nodes = host.nodes
        blocked = self.blocked
        decoded = []
        for j in self.grid.candidates(x, y, now, host.position, self.n):
            if j == i or not nodes[j].alive or (blocked and (i, j) in blocked):
                continue
            xj, yj = pos[j](now)
            d2 = (xj - x) ** 2 + (yj - y) ** 2
            if d2 > self.reach2:
                continue
            p = self._rx_dbm(ptx, math.sqrt(d2))
            if self._sigma:
                self._link_pair = (i, j)
                p += self._gauss(0.0, self._sigma)
            if p < self.sens_dbm:
                continue
            self.extra_j[j] += self.dp_rx * dur
            fer = self._fer(p - self.profile.noise_floor_dbm, tx.psdu)
            if fer <= 0.0 or self.rng.random() >= fer:
                decoded.append(j)
                self.rx_ok += 1
                self.rx_mw[j] = 10.0 ** (p * 0.1)
            else:
                self.lost_noise += 1
                tx.lost_other += 1
        tx.on_end(tx, decoded)

    # ------------------------------------------------------------------ energy
    def energy_j(self, i: int) -> float:
        """Energy node ``i``'s radio has drawn so far (J)."""
        now = self.host.sched.now
        since = self.alive_since[i]
        alive = self.alive_s[i] + (now - since if since is not None else 0.0)
        e = self.p_idle * alive + self.extra_j[i]
        tx = self.transmitting[i]
        if tx is not None:
            e += tx.tx_j * (now - tx.start)
        if self.lock[i] is not None:
            e += self.dp_rx * (now - self.lock_t0[i])
        bat = self.batteries[i] if self.batteries else None
        if bat is not None and e > bat.capacity_j - self.drained_j[i]:
            e = bat.capacity_j - self.drained_j[i]
        return e

    def total_energy_j(self) -> float:
        return sum(self.energy_j(i) for i in range(self.n))

    def battery_fraction(self, i: int) -> float:
        bat = self.batteries[i] if self.batteries else None
        if bat is None:
            return 1.0
        left = self._left_j(i)
        bat.remaining_j = left if left > _BATTERY_EMPTY_J else 0.0
        return bat.fraction

    def _left_j(self, i: int) -> float:
        return self.batteries[i].capacity_j - self.drained_j[i] - self.energy_j(i)

    def drain(self, i: int, to_fraction: float | None = None, joules: float | None = None
              ) -> float:
        """Take energy from node ``i``'s battery at once, down to ``to_fraction`` of its
        capacity or by ``joules`` (a fault: a short, a cold battery). It is not energy the
        radio used (``energy_j`` leaves it out); an empty battery kills the node now, a low one
        brings its death forward. Returns the joules taken."""
        bat = self.batteries[i] if self.batteries else None
        if bat is None:
            raise ValueError(f"node {i} has no battery")
        left = max(self._left_j(i), 0.0)
        want = left - to_fraction * bat.capacity_j if to_fraction is not None else joules or 0.0
        taken = min(max(want, 0.0), left)
        self.drained_j[i] += taken
        if self.alive_since[i] is not None and self.host.nodes[i].alive:
            if left - taken <= _BATTERY_EMPTY_J:
                self._battery_check(i)
            else:
                self._arm_battery(i)
        return taken

    def _power_w(self, i: int) -> float:
        p = self.p_idle
        tx = self.transmitting[i]
        if tx is not None:
            p += tx.tx_j
        if self.lock[i] is not None:
            p += self.dp_rx
        return p

    def _arm_battery(self, i: int) -> None:
        """(Re)schedule the check at the earliest instant node ``i``'s battery can run empty
        in its present state; drawing less later only makes the check early, not late."""
        if self.alive_since[i] is None or self.batteries[i] is None:
            return
        left = self._left_j(i)
        power = self._power_w(i)
        when = self.host.sched.now + (max(left, 0.0) / power if power > 0 else math.inf)
        timer = self._death_timer[i]
        if timer is not None and not timer.cancelled:
            if timer.when <= when:
                return
            timer.cancel()
        self._death_timer[i] = (self.host.sched.call_at(when, self._battery_check, i)
                                if when < math.inf else None)

    def _battery_check(self, i: int) -> None:
        self._death_timer[i] = None
        if self.alive_since[i] is None or not self.host.nodes[i].alive:
            return
        if self._left_j(i) <= _BATTERY_EMPTY_J:
            self.batteries[i].remaining_j = 0.0
            self.host.kill(i, "battery")
        else:
            self._arm_battery(i)

    # ------------------------------------------------------------------ life cycle
    def node_stopped(self, i: int) -> None:
        """Node ``i`` died: its radio goes silent and stops drawing energy."""
        now = self.host.sched.now
        self.abort_tx(i)
        if self.lock[i] is not None:
            tx = self.lock[i]
            self.lock[i] = None
            self.extra_j[i] += self.dp_rx * (now - self.lock_t0[i])
            if tx.dst == i:
                tx.lost_other += 1
        since = self.alive_since[i]
        if since is not None:
            self.alive_s[i] += now - since
            self.alive_since[i] = None
        self.notify[i] = None
        timer = self._death_timer[i]
        if timer is not None:
            timer.cancel()
            self._death_timer[i] = None

    def node_started(self, i: int) -> None:
        """A revived node draws energy again."""
        if self.alive_since[i] is None:
            self.alive_since[i] = self.host.sched.now
            if self.batteries:
                self._arm_battery(i)

    # ------------------------------------------------------------------ reporting
    def stats(self) -> dict[str, int]:
        """Per-frame counters: frames and ACKs put on the air, receptions that succeeded, and
        receptions lost to interference (collision), to noise, or because the receiver was
        busy (transmitting or locked onto another frame, counted as collisions)."""
        macs = [m for m in self.macs if m is not None]
        return {
            "frames": self.frames, "acks": self.acks, "rx_ok": self.rx_ok,
            "rx_lost_collision": self.lost_collision + self.lost_busy,
            "rx_lost_noise": self.lost_noise,
            "retransmissions": sum(m.retransmissions for m in macs),
            "mac_retries": sum(m.gave_up for m in macs),
            "channel_busy": sum(m.access_failures for m in macs),
        }


__all__ = ["RadioChannel", "Transmission", "Frame"]
