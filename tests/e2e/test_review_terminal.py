"""``run.py --graph learn --review`` in a real terminal (a pseudo-terminal), the scripted stub model over HTTP: the
review's questions, ``kill -9`` while a review waits, ``--resume`` asking the same review again, an edit made in
``$EDITOR`` that the agent then calls and the library's history records as the person's; no terminal: refused."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time

from conftest_helpers import ROOT, complete_jsonl, tiny_gripper
from test_e2e_cli import by_prompt, cli, cli_env
from test_review import BAD_CALL, SWAPPED, agent, learner

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
PROMPT = "carry? [a]pprove  [r]eject  [e]dit: "


class Terminal:
    """A process on a pseudo-terminal: read what it shows, type answers."""

    def __init__(self, args: list[str], env: dict):
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # its controlling terminal: Ctrl-C is a SIGINT
        )
        os.close(slave)
        self.fd, self.text = master, ""

    def _read(self, timeout_s: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if ready:
            try:
                self.text += ANSI.sub("", os.read(self.fd, 65536).decode("utf-8", "replace")).replace("\r", "")
            except OSError:  # the process closed the terminal
                time.sleep(timeout_s)

    def wait_for(self, needle: str, timeout_s: float = 240.0, count: int = 1) -> str:
        deadline = time.time() + timeout_s
        while self.text.count(needle) < count:
            assert time.time() < deadline, f"{needle!r} never showed; the terminal shows:\n{self.text[-3000:]}"
            assert self.proc.poll() is None or select.select([self.fd], [], [], 0)[0], (
                f"exited {self.proc.returncode}:\n{self.text[-3000:]}"
            )
            self._read(0.2)
        return self.text

    def type(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def finish(self, timeout_s: float = 240.0) -> int:
        deadline = time.time() + timeout_s
        while self.proc.poll() is None and time.time() < deadline:
            self._read(0.2)
        for _ in range(20):  # what is left in the terminal's buffer
            self._read(0.05)
        os.close(self.fd)
        return self.proc.wait(timeout=5)


def test_a_review_survives_kill_9_and_the_resumed_run_asks_again(stub_server, tmp_path):
    stub = stub_server(respond=by_prompt({**learner(), "act.decide": agent(BAD_CALL)}))
    editor = tmp_path / "editor.py"  # $EDITOR: writes the person's version of the function into the file it is given
    editor.write_text(f"import sys\nopen(sys.argv[1], 'w').write({SWAPPED!r})\n")
    env = {**cli_env(), "EDITOR": f"{sys.executable} {editor}", "TERM": "xterm-256color"}
    env.pop("LEARNACT_PLAIN_PROGRESS")  # the live panel on: it must make room for the questions
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "learn",
        "--env",
        "pddl/gripper",
        "--instance",
        tiny_gripper(tmp_path),
        "--base-url",
        stub.url,
        "--model",
        "stub-model",
        "--candidates",
        "1",
        "--max-steps",
        "4",
        "--max-rounds",
        "1",
        "--review",
    ]
    first = Terminal(cli(*args, "--run-dir", str(run_dir)), env)
    shown = first.wait_for(PROMPT)
    assert "review of round 0: 1 new or changed function(s)" in shown and "r0s0 · carry (new, v1)" in shown
    assert "+def carry(obj, src, dst, gripper):" in shown  # the diff
    os.killpg(first.proc.pid, signal.SIGKILL)  # kill -9 while the review waits
    first.finish()
    events = complete_jsonl(run_dir / "events.jsonl")
    assert [e["event"] for e in events].count("review_requested") == 1 and not any(
        e["event"] == "rollout_start" for e in events
    )

    second = Terminal(cli("--graph", "learn", "--resume", str(run_dir)), env)
    shown = second.wait_for(PROMPT)
    assert "resuming at review" in shown and "r0s0 · carry (new, v1)" in shown  # the same review again
    second.type("x")  # not an answer: asked again
    second.wait_for(PROMPT, count=2)
    second.type("e")  # $EDITOR writes the person's version
    second.wait_for("what you changed")
    second.type("rooms in the order given")
    assert second.finish() == 0, second.text[-3000:]
    assert "round 0 reviewed: 0 approved, 0 rejected, 1 edited" in second.text

    history = [json.loads(line) for line in (run_dir / "library" / "history.jsonl").read_text().splitlines()]
    assert [(h["name"], h["version"], h.get("author"), h["reason"]) for h in history] == [
        ("carry", 2, "person", "edited by a person: rooms in the order given")
    ]
    summary = json.loads((run_dir / "learn_summary.json").read_text())
    assert (
        summary["stop_reason"] == "nothing_failed" and summary["best_scores"]["success_rate"] == 1.0
    )  # BAD_CALL works with the edit
    rollouts = [json.loads(line) for line in (run_dir / "rollouts.jsonl").read_text().splitlines() if line.strip()]
    assert rollouts and all(r["record"]["success"] and r["record"]["steps"][0]["action"] == BAD_CALL for r in rollouts)


def test_review_without_a_terminal_is_refused_in_one_line(tmp_path):
    out = subprocess.run(
        cli(
            "--graph",
            "learn",
            "--env",
            "pddl/gripper",
            "--instance",
            tiny_gripper(tmp_path),
            "--model",
            "stub-model",
            "--base-url",
            "http://127.0.0.1:9",
            "--review",
            "--run-dir",
            str(tmp_path / "run"),
        ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0, out.stderr
    assert "--review asks you in the terminal, and stdin is not one" in out.stderr
    assert not (tmp_path / "run").exists()


def test_ctrl_c_at_the_question_and_kill_9_after_the_answer_lose_nothing(stub_server, tmp_path):
    """Ctrl-C while a review waits: exit 130, the review is asked again on --resume; kill -9 once it is answered (the
    rollouts are slow): the answer is kept, --resume goes on without asking again."""
    stub = stub_server(respond=by_prompt({**learner(), "act.decide": agent(BAD_CALL)}, delay_s=0.5))
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen(sys.argv[1], 'w').write({SWAPPED!r})\n")
    env = {**cli_env(), "EDITOR": f"{sys.executable} {editor}", "TERM": "dumb"}
    run_dir = tmp_path / "run"
    args = [
        "--graph",
        "learn",
        "--env",
        "pddl/gripper",
        "--instance",
        tiny_gripper(tmp_path),
        "--base-url",
        stub.url,
        "--model",
        "stub-model",
        "--candidates",
        "1",
        "--max-steps",
        "4",
        "--max-rounds",
        "1",
        "--review",
    ]
    first = Terminal(cli(*args, "--run-dir", str(run_dir)), env)
    first.wait_for(PROMPT)
    os.write(first.fd, b"\x03")  # Ctrl-C
    assert first.finish() == 130 and "interrupted: finished work is saved; continue with --resume" in first.text

    second = Terminal(cli("--graph", "learn", "--resume", str(run_dir)), env)
    second.wait_for(PROMPT)  # asked again
    second.type("e")
    second.wait_for("what you changed")
    second.type("")
    second.wait_for("round 0 reviewed: 0 approved, 0 rejected, 1 edited")
    os.killpg(second.proc.pid, signal.SIGKILL)  # during the slow rollout that follows the answer
    second.finish()
    assert not (run_dir / "learn_summary.json").exists()

    third = Terminal(cli("--graph", "learn", "--resume", str(run_dir)), env)
    assert third.finish() == 0, third.text[-3000:]
    assert PROMPT not in third.text  # the answer was kept
    history = [json.loads(line) for line in (run_dir / "library" / "history.jsonl").read_text().splitlines()]
    assert [(h["name"], h["version"], h.get("author"), h["reason"]) for h in history] == [
        ("carry", 2, "person", "edited by a person")
    ]
    assert json.loads((run_dir / "learn_summary.json").read_text())["stop_reason"] == "nothing_failed"
