"""Bring node namespaces up and down fast.

Per node: ``unshare(CLONE_NEWNET)`` in this thread and bind-mount it onto ``/run/netns/NAME``,
``lo`` up, forwarding sysctls, a TAP ``wlan0`` with a /32 address and, for protocols that must see
unrouted packets, a TUN ``mesh0`` carrying the mesh prefix at low priority.

Everything that needs the node's namespace as the *current* one (the netlink socket, sysctls, the
TAP/TUN fds, interface indices) happens in one visit, without awaiting; the netlink requests that
follow run as coroutines on the emulation's loop, the thread that owns the pyroute2 handles.

The TAP/TUN fds are opened while the thread is inside the node's namespace, so the devices are
born there. Measured here: moving a TAP created in the root namespace costs ~14.5 ms a node
(the netdev move waits for RCU), creating it in place ~0.2 ms, and nothing ever appears in the
root namespace. The fds pin their namespace, so teardown unmounts every namespace first and then
closes the fds: the devices are persistent (TUNSETPERSIST), so a close does not unregister them
one by one; the kernel frees each namespace with its devices in one batched cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from dataclasses import dataclass, field
from typing import Callable

from . import linux, rtnl
from .registry import RunRecord, kill_processes, netns_name, processes_in

WLAN = "wlan0"
MESH = "mesh0"
MESH_PREFIX = ("10.99.0.0", 16)
MESH_ROUTE_METRIC = 1000

# Applied inside every node before its devices arrive ("default" is what new devices copy).
NODE_SYSCTLS = (
    ("net/ipv4/ip_forward", "1"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/default/rp_filter", "0"),
    ("net/ipv4/conf/all/send_redirects", "0"),  # forwarding out the interface it came in on is
    ("net/ipv4/conf/default/send_redirects", "0"),  # normal in a mesh, not a misroute
    ("net/ipv4/conf/all/accept_redirects", "0"),
    ("net/ipv4/conf/default/accept_redirects", "0"),
    ("net/ipv6/conf/default/accept_dad", "0"),  # link-local usable at once (babeld)
    ("net/ipv6/conf/default/router_solicitations", "0"),
    # the multicast listener reports an interface sends as it comes up, repeated within 10 ms
    # rather than 1 s: all of them are queued before the run starts, and discarded then
    ("net/ipv6/conf/default/mldv1_unsolicited_report_interval", "10"),
    ("net/ipv6/conf/default/mldv2_unsolicited_report_interval", "10"),
    ("net/ipv4/icmp_ratelimit", "0"),  # every TTL expiry reaches the source (counted as a drop)
    ("net/ipv4/conf/all/accept_local", "1"),  # a packet may pass its own source again (GPSR's
    ("net/ipv4/conf/default/accept_local", "1"),  # perimeter walks do), as on the simulator
)


def mac_of(address: str) -> bytes:
    """Locally administered MAC derived from the node's IPv4 address (02:00:a:b:c:d), so the
    channel and the user-space forwarding path can address a neighbour without ARP."""
    return b"\x02\x00" + socket.inet_aton(address)


@dataclass
class NodeNet:
    """What the kernel side of one node consists of."""

    index: int
    name: str
    address: str
    netns: str
    ns_fd: int = -1
    rt: rtnl.NamespaceRtnl | None = None
    tap_fd: int = -1
    tap_index: int = 0
    tun_fd: int = -1
    tun_index: int = 0
    mac: bytes = b""
    extra_fds: list[int] = field(default_factory=list)

    @property
    def netns_path(self) -> str:
        return os.path.join(linux.NETNS_DIR, self.netns)


def _write_sysctls() -> None:
    for key, value in NODE_SYSCTLS:
        try:
            with open(f"/proc/sys/{key}", "w") as fh:
                fh.write(value)
        except FileNotFoundError:  # e.g. IPv6 disabled on this kernel
            pass


def _create_namespace(node: NodeNet, loop: asyncio.AbstractEventLoop, with_tun: bool) -> None:
    """The one visit inside the new namespace (see module docstring); nothing here awaits."""
    path = node.netns_path
    os.makedirs(linux.NETNS_DIR, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444))
    try:
        linux.unshare(linux.CLONE_NEWNET)
        try:
            linux.bind_mount("/proc/thread-self/ns/net", path)
            node.ns_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            node.rt = rtnl.NamespaceRtnl(loop)
            _write_sysctls()
            node.tap_fd = _open_device(node, WLAN, tap=True)
            node.tap_index = socket.if_nametoindex(WLAN)
            if with_tun:
                node.tun_fd = _open_device(node, MESH, tap=False)
                node.tun_index = socket.if_nametoindex(MESH)
        finally:
            linux.setns(linux.ROOT_NETNS_FD)
    except BaseException:
        if node.ns_fd < 0:  # the path is ours (O_EXCL) but tear_down cannot tell: remove it
            with contextlib.suppress(OSError):
                linux.umount(path)
                os.unlink(path)
        raise


def _open_device(node: NodeNet, name: str, tap: bool) -> int:
    fd = linux.open_tun(name, tap=tap)
    node.extra_fds.append(fd)  # closed by close_device_fds even if configuring fails later
    return fd


async def _configure(node: NodeNet) -> None:
    """lo and wlan0 up (MAC set on the way), the address, mesh0 and its route: one batch."""
    requests = [rtnl.link_up(1), rtnl.link_up(node.tap_index, mac=node.mac),
                rtnl.address(node.tap_index, node.address, 32)]
    if node.tun_fd >= 0:
        requests += [rtnl.link_up(node.tun_index),
                     rtnl.route(MESH_PREFIX[0], MESH_PREFIX[1], oif=node.tun_index,
                                metric=MESH_ROUTE_METRIC, src=node.address,
                                proto=rtnl.RTPROT_STATIC)]
    await node.rt.apply(requests)


def plan(record: RunRecord, names: list[str], addresses: list[str], with_tun: bool) -> list[NodeNet]:
    """Write down everything the bring-up will create before creating any of it."""
    nodes = [NodeNet(i, n, a, netns_name(record.run, n), mac=mac_of(a))
             for i, (n, a) in enumerate(zip(names, addresses))]
    record.namespaces = [n.netns for n in nodes]
    record.nodes = [{"name": n.name, "namespace": n.netns, "address": n.address} for n in nodes]
    record.up = 0  # none of them exists yet (see bring_up's on_ready)
    record.save()
    return nodes


async def bring_up(nodes: list[NodeNet], with_tun: bool,
                   on_ready: Callable[[int], None] | None = None) -> None:
    """Create every node's namespace and devices (see module docstring). Runs on the loop that
    will own the nodes' netlink handles. ``on_ready(k)`` is called when nodes[:k] are up."""
    loop = asyncio.get_running_loop()
    for k, node in enumerate(nodes, 1):
        _create_namespace(node, loop, with_tun)
        await _configure(node)
        if on_ready is not None:
            on_ready(k)


def close_netlink(nodes: list[NodeNet]) -> None:
    """Close the nodes' netlink sockets (on the loop thread that owns them, when it can)."""
    for node in nodes:
        if node.rt is not None:
            node.rt.close()
            node.rt = None


def owns_path(node: NodeNet) -> bool:
    """``node.netns_path`` still holds the namespace this run created (not one a newer run of
    the same name made at the same path after this one lost it)."""
    if node.ns_fd < 0:
        return False
    return linux.netns_inode(node.netns_path) == os.fstat(node.ns_fd).st_ino


def tear_down(nodes: list[NodeNet], kill: bool = True) -> list[str]:
    """Remove the namespaces (and with them every device). Processes started inside are
    stopped first; our own sockets there must already be closed (they pin a namespace).
    Only paths that still hold this run's namespaces are touched (:func:`owns_path`)."""
    close_netlink(nodes)
    mine = {id(n): os.fstat(n.ns_fd).st_ino for n in nodes if owns_path(n)}
    if kill and mine:
        kill_processes(processes_in(set(mine.values())))
    removed = []
    for node in nodes:
        if id(node) not in mine:
            if node.ns_fd >= 0:
                os.close(node.ns_fd)
                node.ns_fd = -1
            continue
        linux.umount(node.netns_path)
        try:
            os.unlink(node.netns_path)
            removed.append(node.netns)
        except FileNotFoundError:
            pass
        if node.ns_fd >= 0:
            os.close(node.ns_fd)
            node.ns_fd = -1
    return removed


def close_device_fds(nodes: list[NodeNet]) -> None:
    """Close TAP/TUN fds once their namespaces are unmounted; the last close lets the kernel
    free the namespace with its devices."""
    for node in nodes:
        for fd in node.extra_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        node.extra_fds.clear()
        node.tap_fd = node.tun_fd = -1
