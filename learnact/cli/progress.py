"""Live progress from the graphs' custom stream events.

On a terminal: a `rich` live panel (round, candidates and their scores, best so far, rollouts and
episodes in flight, tokens, cost, elapsed and estimated remaining time) with the meaningful events
logged above it. Otherwise (a pipe, a log file, LEARNACT_PLAIN_PROGRESS=1): plain log lines, one
per meaningful event. Call ``close()`` when the run ends so the terminal gets its cursor back.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO, cast

from nodes.records import CandidateReady, Event, RoundScored


@dataclass
class _Candidate:
    round: int
    status: str = "writing"  # writing | ready | dropped | scored
    origin: str = ""
    score: float | None = None
    success: float | None = None
    rollouts_done: int = 0


@dataclass
class _State:
    """What the live view shows, updated from events only (so it is the same on resume)."""

    round: int = 0
    score_type: str = ""
    candidates: dict[str, _Candidate] = field(default_factory=dict)
    best_id: str | None = None
    best_score: float | None = None
    best_success: float | None = None
    in_flight: dict[str, float] = field(default_factory=dict)  # rollout/episode id -> start time
    episodes_done: int = 0
    episodes_won: int = 0
    episode_seconds: list[float] = field(default_factory=list)
    round_started: float = field(default_factory=time.monotonic)
    round_seconds: list[float] = field(default_factory=list)
    stop_reason: str | None = None


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressPrinter:
    def __init__(
        self,
        usage=None,
        stream: TextIO | None = None,
        verbose: bool = False,
        *,
        total_episodes: int | None = None,
        max_rounds: int | None = None,
        live: bool | None = None,
    ):
        self.usage = usage
        self.out = stream or sys.stderr
        self.verbose = verbose
        self.total_episodes = total_episodes  # act/evaluate: for the remaining-time estimate
        self.max_rounds = max_rounds  # learn: the round cap, for an upper bound on the remaining time
        self.t0 = time.monotonic()
        self.best: float | None = None
        self.state = _State()
        self._lock = threading.RLock()  # act runs episodes in threads that all report here
        if live is None:
            live = self._is_terminal() and os.environ.get("LEARNACT_PLAIN_PROGRESS") != "1"
        self._live_wanted = live
        self._live = None

    # ------------------------------------------------------------ output plumbing

    def _is_terminal(self) -> bool:
        try:
            return bool(self.out.isatty()) and os.environ.get("TERM") != "dumb"
        except (AttributeError, ValueError):
            return False

    def _ensure_live(self):
        if not self._live_wanted or self._live is not None:
            return self._live
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.out, stderr=self.out is sys.stderr)
        self._live = Live(console=console, get_renderable=self._render, refresh_per_second=4, transient=False)
        self._live.start()
        atexit.register(self.close)  # a forgotten close() must not leave the cursor hidden
        return self._live

    def close(self) -> None:
        """Stop the live view (its last frame stays on screen). Safe to call twice."""
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None
            self._live_wanted = False

    def pause(self) -> None:
        """Stop the live view while the person answers a review (learnact/cli/review_prompt.py); the next line starts it again."""
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def _tokens(self) -> str:
        if self.usage is None:
            return ""
        total = self.usage.totals()
        cost = total.get("cost")
        return f" | tokens {total.get('total_tokens', 0):,} cost {'n/a' if cost is None else f'${cost:.4f}'}"

    def line(self, text: str) -> None:
        with self._lock:
            elapsed = time.monotonic() - self.t0
            live = self._ensure_live()
            if live is not None:
                live.console.print(
                    f"[dim]{_duration(elapsed)}[/dim] {text}", markup=True, highlight=False, soft_wrap=True
                )
            else:
                print(f"[{elapsed:7.1f}s] {text}{self._tokens()}", file=self.out, flush=True)

    # ------------------------------------------------------------ events

    def __call__(self, event: Event) -> None:
        if event.get("scope"):
            event = _scoped(event)
        with self._lock:
            self._update(event)
            message = self._message(event)
            if message:
                self.line(message)
            else:
                self._ensure_live()

    def _update(self, event: Event) -> None:
        s, kind, now = self.state, event.get("event"), time.monotonic()
        cid = event.get("candidate_id")
        if kind == "candidate_start":
            s.candidates[cid] = _Candidate(round=int(event.get("round", s.round)))
        elif kind == "candidate_ready":
            c = s.candidates.setdefault(cid, _Candidate(round=int(event.get("round", s.round))))
            c.status, c.origin = "ready", str(event.get("origin") or "create")
        elif kind == "candidate_dropped":
            s.candidates.setdefault(cid, _Candidate(round=s.round)).status = "dropped"
        elif kind == "rollout_start":
            s.in_flight[f"{cid}@{event.get('instance')}"] = now
        elif kind in ("rollout_end", "rollout_reused"):
            s.in_flight.pop(f"{cid}@{event.get('instance')}", None)
            if cid in s.candidates:
                s.candidates[cid].rollouts_done += 1
        elif kind == "episode_start":
            s.in_flight.setdefault(str(event.get("episode_id")), now)
        elif kind == "episode_end":
            started = s.in_flight.pop(str(event.get("episode_id")), None)
            if "@" not in str(event.get("episode_id")):  # training rollouts are counted by rollout_end
                s.episodes_done += 1
                s.episodes_won += bool(event.get("success"))
                if started is not None:
                    s.episode_seconds.append(now - started)
        elif kind in ("episode_recorded", "episode_reused"):  # an evaluation's episode (its steps are not streamed)
            s.episodes_done += 1
            s.episodes_won += bool(event.get("success"))
        elif kind == "round_scored":
            event = cast(RoundScored, event)
            s.score_type = str(event.get("score_type", ""))
            for c in event.get("candidates", []):
                entry = s.candidates.setdefault(c["id"], _Candidate(round=int(event.get("round", 0))))
                entry.status = "scored"
                entry.score = (c.get("scores") or {}).get(s.score_type)
                entry.success = (c.get("scores") or {}).get("success_rate")
            s.best_id, s.best_score = event.get("best_id"), event.get("best_score")
            best = s.candidates.get(s.best_id or "")
            s.best_success = best.success if best else None
            if event.get("best_score") is not None:
                self.best = event["best_score"] if self.best is None else max(self.best, event["best_score"])
            s.round_seconds.append(now - s.round_started)
            s.round_started = now
        elif kind == "errors_identified":
            s.round = int(event.get("round", s.round)) + 1
        elif kind == "learning_done":
            s.stop_reason = str(event.get("stop_reason"))

    def _message(self, event: Event) -> str | None:
        kind = event.get("event")
        if kind == "step" and self.verbose:
            return f"  {event['episode_id']} step {event['step']}: {event['action']} -> {'ok' if event['ok'] else 'failed'}"
        if kind == "episode_recorded":
            mark = "SUCCESS" if event["success"] else "fail"
            return f"{event['episode_id']}: {mark} in {event['steps']} steps (progress {event['progress']:.2f}, {event['tokens']:,} tokens)"
        if kind == "learning_start":
            return f"learning {event['method']} on {event['env']}{_run_of(event)} ..."
        if kind == "learning_end":
            return f"learned {event['method']} on {event['env']}{_run_of(event)} in {event.get('wall_s', '?')} s ({event.get('total_tokens', 0):,} tokens)"
        if kind == "episode_end":
            mark = "SUCCESS" if event["success"] else "fail"
            return f"episode {event['episode_id']}: {mark} in {event['steps']} steps (progress {event['progress']:.2f})"
        if kind == "candidate_ready":
            event = cast(CandidateReady, event)
            extra = "".join(f"; renamed {old} to {new}" for old, new in (event.get("renamed") or {}).items())
            if event.get("dropped"):
                extra += f"; dropped {', '.join(event['dropped'])} (why: candidates/)"
            return f"candidate {event['candidate_id']} ready ({event.get('origin', 'create')}){extra}"
        if kind == "candidate_dropped":
            return f"candidate {event['candidate_id']} dropped: {event['error']}"
        if kind == "repair":
            return f"candidate {event['candidate_id']}: code error, repair attempt {event['attempt']}"
        if kind == "rollout_end" and not self._live_wanted:  # the live panel shows rollouts already
            return f"rollout {event['candidate_id']} on {event['instance']}: {'success' if event['success'] else 'fail'} ({event['steps']} steps)"
        if kind == "episode_reused":
            return f"episode {event['episode_id']}: recorded before the interruption, reused"
        if kind == "rollout_reused":
            return f"rollout {event['candidate_id']} on {event['instance']}: finished before the interruption, reused"
        if kind == "round_scored":
            event = cast(RoundScored, event)
            scores = ", ".join(
                f"{c['id']}={c['scores'][event['score_type']]:.2f} (train success {c['scores']['success_rate']:.2f})"
                for c in event["candidates"]
            )
            return f"round {event['round']} scored: {scores or 'no working candidate'}; best {event['best_id']} ({event['best_score']})"
        if kind == "errors_identified":
            return f"round {event['round']}: {event['failures']} failed learned calls; revising {event['target']}"
        if kind == "review_requested":  # a person in the loop (nodes/review.py)
            return f"round {event['round']}: {len(event['functions'])} function(s) wait for your review"
        if kind == "review_done":
            return f"round {event['round']} reviewed: {event['approved']} approved, {event['rejected']} rejected, {event['edited']} edited"
        if kind == "learning_done":
            return f"learning stopped: {event['stop_reason']}; best candidate {event['best_id']}"
        return None

    # ------------------------------------------------------------ live panel

    def remaining_estimate(self) -> str:
        """Episodes: remaining / observed throughput. Learning: mean round time x rounds left
        under the cap (an upper bound: the loop may stop earlier on a plateau)."""
        s, elapsed = self.state, time.monotonic() - self.t0
        if self.total_episodes and s.episodes_done:
            left = max(0, self.total_episodes - s.episodes_done)
            return f"~{_duration(left * elapsed / s.episodes_done)}"
        if self.max_rounds is not None and s.round_seconds and s.stop_reason is None:
            rounds_left = max(0, self.max_rounds + 1 - len(s.round_seconds))
            mean = sum(s.round_seconds) / len(s.round_seconds)
            return f"<= {_duration(rounds_left * mean)}"
        return "?"

    def _render(self):
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            s = self.state
            elapsed = time.monotonic() - self.t0
            head = Text()
            if s.candidates or s.score_type:
                head.append(f"round {s.round}", style="bold")
                if self.max_rounds is not None:
                    head.append(f"/{self.max_rounds}")
                if s.best_id:
                    head.append("  best ", style="dim")
                    head.append(
                        f"{s.best_id} {s.best_score:.3f}" if s.best_score is not None else str(s.best_id),
                        style="bold red",
                    )
                    if s.best_success is not None:
                        head.append(f" (train success {s.best_success:.2f})")
                head.append("  ")
            if s.episodes_done or self.total_episodes:
                total = f"/{self.total_episodes}" if self.total_episodes else ""
                head.append(f"episodes {s.episodes_done}{total} ({s.episodes_won} won)  ", style="bold")
            head.append(f"in flight {len(s.in_flight)}  ")
            if self.usage is not None:
                t = self.usage.totals()
                cost = t.get("cost")
                head.append(f"tokens {t.get('total_tokens', 0):,}  cost {'n/a' if cost is None else f'${cost:.4f}'}  ")
            head.append(f"elapsed {_duration(elapsed)}  remaining {self.remaining_estimate()}", style="dim")
            shown = [(cid, c) for cid, c in s.candidates.items() if c.round >= s.round - 1][-12:]
            if not shown:
                return head
            table = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
            for col in ("candidate", "round", "origin", "status", "rollouts", s.score_type or "score", "train success"):
                table.add_column(col)
            for cid, c in shown:
                style = "bold red" if cid == s.best_id else ("dim" if c.status == "dropped" else "")
                table.add_row(
                    cid,
                    str(c.round),
                    c.origin,
                    c.status,
                    str(c.rollouts_done),
                    "" if c.score is None else f"{c.score:.3f}",
                    "" if c.success is None else f"{c.success:.2f}",
                    style=style,
                )
            from rich.console import Group

            return Group(head, table)


def _run_of(event: Event) -> str:
    """`` (run 2)`` for a learning sub-run of a later evaluation run (each run learns anew)."""
    return f" (run {event['run']})" if event.get("run") else ""


def _scoped(event: Event) -> Event:
    """A learning sub-run's event (``scope`` = "method|env"): prefix its candidate ids with the scope,
    so that candidates of parallel learning runs (both have an ``r0s0``) stay apart."""
    tag = event["scope"].replace("|pddl/", "@").replace("|alfworld/", "@").replace("|", "@")
    out: dict = dict(event)
    for key in ("candidate_id", "best_id"):
        if out.get(key):
            out[key] = f"{tag}:{out[key]}"
    if isinstance(out.get("candidates"), list):
        out["candidates"] = [
            {**c, "id": f"{tag}:{c['id']}"} if isinstance(c, dict) and "id" in c else c for c in out["candidates"]
        ]
    return cast(Event, out)
