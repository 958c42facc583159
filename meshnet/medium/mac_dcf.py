"""IEEE 802.11 DCF basics (802.11-1999 9.2), as ns-2 models WaveLAN for Broch et al. 1998.

* A frame finding the medium idle for DIFS is sent at once; otherwise it counts down a backoff
  of ``uniform[0, CW]`` slots while the medium is idle, DIFS after every busy period. The
  countdown freezes when the medium turns busy (physical carrier sense at the profile's CS
  threshold, or the NAV set by an overheard unicast for its SIFS + ACK) and resumes when idle.
  No per-slot events: the channel tells the MAC when its medium changes, and the remaining
  slots are computed from the elapsed time.
* A carrier that appears less than aCCATime before the countdown ends is not noticed, so two
  stations ending their backoff in the same slot collide.
* Unicast frames are ACKed after SIFS; a missing ACK doubles CW (up to CWmax) and retries, up to
  dot11ShortRetryLimit attempts. Broadcasts are not ACKed. After every transmission a new backoff
  is drawn (post-backoff) with CW reset to CWmin on success.
* Not modelled: RTS/CTS (ns-2 used it for Broch; here hidden terminals hit data frames
  directly), EIFS, fragmentation thresholds.
"""

from __future__ import annotations

from .mac_base import RadioMac


class DcfMac(RadioMac):
    def __init__(self, channel, node) -> None:
        p = channel.profile
        self.ack_gap_s = p.sifs_s
        self.max_retries = p.short_retry_limit - 1   # the limit counts attempts
        super().__init__(channel, node)
        self.slot = p.slot_s
        self.difs = p.difs_s
        self.detect = p.cca_s
        self.cw_min, self.cw_max = p.cw_min, p.cw_max
        self.cw = self.cw_min
        self.slots = -1          # pending backoff slots; -1: none drawn
        self.draw_t = 0.0        # when they were drawn (counting cannot start earlier)
        self.count_start = 0.0
        self.not_before = 0.0
        self.nav_timer = None

    # ------------------------------------------------------------------ backoff
    def _draw(self) -> None:
        self.slots = int(self.rng.random() * (self.cw + 1))
        self.draw_t = self.sched.now

    def _access(self, not_before: float) -> None:
        ch = self.channel
        i = self.i
        now = self.sched.now
        if self.slots < 0:
            if (now >= not_before and ch.transmitting[i] is None and now >= ch.nav_until[i]
                    and (not ch.cs_busy[i] or now - ch.busy_since[i] < self.detect)
                    and now - ch.idle_since[i] >= self.difs):
                self._go()
                return
            self._draw()
        self.not_before = not_before
        ch.notify[i] = self
        self._resume(now)

    def _resume(self, now: float) -> None:
        if self.timer is not None or self.cur is None:
            return
        ch = self.channel
        i = self.i
        if ch.transmitting[i] is not None:
            return  # on_idle follows at the end of our own frame
        nav = ch.nav_until[i]
        if now < nav:
            if self.nav_timer is None:
                self.nav_timer = self.sched.call_at(nav, self._nav_wake)
            return
        idle = ch.idle_since[i]
        if nav > idle:
            idle = nav
        start = idle + self.difs
        if self.not_before > start:
            start = self.not_before
        if self.draw_t > start:
            start = self.draw_t
        self.count_start = start
        fire = start + self.slots * self.slot
        if ch.cs_busy[i] and fire > ch.busy_since[i] + self.detect:
            return  # busy: on_idle resumes the countdown
        if fire <= now:
            self._go()
        else:
            self.timer = self.sched.call_at(fire, self._backoff_done)

    def _nav_wake(self) -> None:
        self.nav_timer = None
        if self.channel.notify[self.i] is self:
            self._resume(self.sched.now)

    def on_busy(self, now: float) -> None:
        timer = self.timer
        if timer is None:
            return
        if timer[0] <= now + self.detect:
            return  # too late to notice: we transmit anyway
        timer.cancel()
        self.timer = None
        if now > self.count_start:
            done = int((now - self.count_start) / self.slot + 1e-9)
            self.slots = self.slots - done if done < self.slots else 0

    def on_idle(self, now: float) -> None:
        if self.timer is None:
            self._resume(now)

    def on_nav(self, now: float) -> None:
        self.on_busy(now)
        self._resume(now)

    def _backoff_done(self) -> None:
        self.timer = None
        self._go()

    def _go(self) -> None:
        self.channel.notify[self.i] = None
        self.slots = -1
        self._transmit()

    # ------------------------------------------------------------------ outcomes
    def _overheard(self, tx, decoded: list[int], dst: int) -> None:
        """Every other node that was locked onto the unicast defers for its ACK: the NAV when
        it decoded the frame, and EIFS (about as long) when it did not."""
        ch = self.channel
        until = self.sched.now + self.ack_s
        nav = ch.nav_until
        notify = ch.notify
        for j in tx.overheard:
            if nav[j] < until:
                nav[j] = until
                mac = notify[j]
                if mac is not None:
                    mac.on_nav(self.sched.now)

    def _succeeded(self) -> None:
        self.cw = self.cw_min
        self._draw()

    def _failed(self) -> None:
        self.cw = min(2 * self.cw + 1, self.cw_max)
        self._draw()

    def _reset(self) -> None:
        self.cw = self.cw_min
        self._draw()

    def _cancel_timers(self) -> None:
        super()._cancel_timers()
        if self.nav_timer is not None:
            self.nav_timer.cancel()
            self.nav_timer = None
        self.channel.notify[self.i] = None


__all__ = ["DcfMac"]
