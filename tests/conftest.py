"""Shared pytest setup: namespace tests fail instead of skipping when MESHNET_REQUIRE_NETNS=1."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "netns" in item.keywords:
            item.add_marker(pytest.mark.netns)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and not hasattr(report, "wasxfail")
            and os.environ.get("MESHNET_REQUIRE_NETNS") == "1"
            and item.get_closest_marker("netns") is not None):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid}: namespace test skipped while MESHNET_REQUIRE_NETNS=1 "
                           f"(reason: {report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr})")
