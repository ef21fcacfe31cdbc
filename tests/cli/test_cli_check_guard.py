"""``monitor check`` warns of the source and webhook URLs the address guard will refuse (an IP
literal or a loopback name outside ``network.allow``) before the daemon does; it asks no DNS."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import monitor

CONFIG = """\
{network}sources:
  - name: local
    url: http://127.0.0.1:8000/feed
  - name: outlet
    url: https://leseco.ma/feed/
subscribers:
  - name: ops
    webhook: http://localhost:9000/hook/T0ken-d81f?key=K3y-0a9c
"""


@pytest.mark.slow
def test_check_warns_of_loopback_urls_the_guard_will_refuse(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG.format(network=""))
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # a warning, not an error
    assert result.stdout.startswith(f"{path}: valid: 2 sources, 0 rules, 1 subscriber,")
    assert result.stderr.splitlines() == [
        f"{path}: warning: source 'local': 127.0.0.1 is not a public address and network.allow "
        "does not list it: the daemon will refuse to fetch it (if it is meant, add 127.0.0.0/8 "
        "to network.allow)",
        f"{path}: warning: subscriber 'ops': localhost is not a public address and "
        "network.allow does not list it: the daemon will refuse to deliver to it (if it is "
        "meant, add 127.0.0.0/8, ::1/128 to network.allow)",
    ]
    assert "T0ken-d81f" not in result.stderr and "K3y-0a9c" not in result.stderr


@pytest.mark.slow
def test_check_is_quiet_once_network_allow_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG.format(network='network:\n  allow: [127.0.0.0/8, "::1/128"]\n'))
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
