"""``http.app`` in the configuration and ``monitor password``, which makes its hash lines: the
command run as a user runs it (stdin piped), its line verified, and a configuration that holds
it loaded, while a wrong value is refused at its place without being shown."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from monitor.config.load import load_config
from tests.support.cli import monitor
from tests.support.config import problems


def password(text: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "password"],
        cwd=cwd, input=text, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def write(tmp_path: Path, app: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/monitor.db
sources:
  - name: a
    url: https://a.ma/feed
rules:
  - name: ia
    any: [IA]
subscribers:
  - name: s
    console: true
http:
  listen: 127.0.0.1:0
{app}""")
    return path


def test_password_prints_an_argon2id_line_that_verifies(tmp_path: Path) -> None:
    done = password("cœur d'artichaut\n", tmp_path)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("$argon2id$v=19$") and "\n" not in line
    assert "artichaut" not in done.stdout + done.stderr
    assert PasswordHasher().verify(line, "cœur d'artichaut")
    with pytest.raises(Exception, match="does not match"):
        PasswordHasher().verify(line, "cœur d'artichaut ")
    again = password("cœur d'artichaut\n", tmp_path).stdout.strip()
    assert again != line  # salted


def test_password_refuses_an_empty_one(tmp_path: Path) -> None:
    done = password("\n", tmp_path)
    assert done.returncode == 1
    assert done.stdout == "" and "empty" in done.stderr


def test_the_printed_line_configures_a_user(tmp_path: Path) -> None:
    line = password("secret-1\n", tmp_path).stdout.strip()
    app = "  app:\n    session: 2h\n    users:\n      - name: analyste\n"
    path = write(tmp_path, app + "        password: ${HASH}\n")
    config = load_config(path, env={"HASH": line})
    assert config.http is not None and config.http.app is not None
    assert config.http.app.session == timedelta(hours=2)
    user = config.http.app.users[0]
    assert user.name == "analyste" and user.password.get_secret_value() == line
    assert line not in repr(config)  # a SecretStr: never printed
    checked = monitor("check", "-c", str(path), cwd=tmp_path, env={"HASH": line})
    assert checked.returncode == 0, checked.stderr
    assert line not in checked.stdout + checked.stderr


def test_app_is_off_unless_present(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env={})
    assert config.http is not None and config.http.app is None
    line = PasswordHasher().hash("x")
    users = f"  app:\n    users: [{{name: a, password: '{line}'}}]\n"
    app = load_config(write(tmp_path, users), env={}).http
    assert app is not None and app.app is not None and app.app.session == timedelta(hours=12)


def test_a_plain_password_is_refused_at_its_place_and_not_shown(tmp_path: Path) -> None:
    users = "    users:\n      - name: analyste\n        password: hunter22\n"
    path = write(tmp_path, "  app:\n" + users)
    found = problems(path)
    assert len(found) == 1, found
    assert "monitor.yaml:16:19: http.app.users[0].password: " in found[0], found
    assert "monitor password" in found[0]
    assert "hunter22" not in found[0]


def test_users_named_twice_and_a_short_session_are_refused(tmp_path: Path) -> None:
    line = PasswordHasher().hash("x")
    users = f"[{{name: a, password: '{line}'}}, {{name: a, password: '{line}'}}]"
    found = problems(write(tmp_path, f"  app:\n    session: 10s\n    users: {users}\n"))
    text = "\n".join(found)
    assert "user named twice: a" in text and "at least 1m" in text, found
    assert line not in text


def _on_a_terminal(cwd: Path, typed: list[str]) -> tuple[int, str]:
    """``monitor password`` on a pseudo-terminal, typing ``typed`` line by line: its exit
    status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout and controlling tty
        os.chdir(cwd)
        os.execv(sys.executable, [sys.executable, "-m", "monitor", "password"])
    shown, pending = b"", list(typed)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            prompts = shown.count(b"Password: ") + shown.count(b"Again: ")
            if pending and len(typed) - len(pending) < prompts:  # one line per prompt
                os.write(fd, pending.pop(0).encode() + b"\n")
    else:
        os.kill(pid, signal.SIGKILL)  # it hung: fail, do not stall
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_on_a_terminal_it_asks_twice_without_echo(tmp_path: Path) -> None:
    status, shown = _on_a_terminal(tmp_path, ["tapé au clavier", "tapé au clavier"])
    assert status == 0, shown
    assert "Password:" in shown and "Again:" in shown
    assert "clavier" not in shown  # not echoed
    line = shown.strip().splitlines()[-1].strip()
    assert PasswordHasher().verify(line, "tapé au clavier")
    status, shown = _on_a_terminal(tmp_path, ["une chose", "une autre"])
    assert status == 1 and "differ" in shown and "$argon2id$" not in shown
