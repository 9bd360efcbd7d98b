"""Live progress from the graphs' custom stream events.

Plain log lines (one per meaningful event) work in a terminal and in a log file alike.
"""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class ProgressPrinter:
    def __init__(self, usage=None, stream: TextIO | None = None, verbose: bool = False):
        self.usage = usage
        self.out = stream or sys.stderr
        self.verbose = verbose
        self.t0 = time.monotonic()
        self.best: float | None = None

    def _tokens(self) -> str:
        if self.usage is None:
            return ""
        total = self.usage.totals()
        return f" | tokens {total.get('total_tokens', 0):,} cost ${total.get('cost', 0.0):.4f}"

    def line(self, text: str) -> None:
        elapsed = time.monotonic() - self.t0
        print(f"[{elapsed:7.1f}s] {text}{self._tokens()}", file=self.out, flush=True)

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "step" and self.verbose:
            self.line(f"  {event['episode_id']} step {event['step']}: {event['action']} -> {'ok' if event['ok'] else 'failed'}")
        elif kind == "episode_end":
            mark = "SUCCESS" if event["success"] else "fail"
            self.line(f"episode {event['episode_id']}: {mark} in {event['steps']} steps (progress {event['progress']:.2f})")
        elif kind == "candidate_ready":
            self.line(f"candidate {event['candidate_id']} ready ({event.get('origin', 'create')})")
        elif kind == "candidate_dropped":
            self.line(f"candidate {event['candidate_id']} dropped: {event['error']}")
        elif kind == "repair":
            self.line(f"candidate {event['candidate_id']}: code error, repair attempt {event['attempt']}")
        elif kind == "rollout_end":
            self.line(f"rollout {event['candidate_id']} on {event['instance']}: {'success' if event['success'] else 'fail'} ({event['steps']} steps)")
        elif kind == "round_scored":
            if event.get("best_score") is not None:
                self.best = event["best_score"] if self.best is None else max(self.best, event["best_score"])
            scores = ", ".join(
                f"{c['id']}={c['scores'][event['score_type']]:.2f} (train success {c['scores']['success_rate']:.2f})"
                for c in event["candidates"]
            )
            self.line(f"round {event['round']} scored: {scores or 'no working candidate'}; best {event['best_id']} ({event['best_score']})")
        elif kind == "errors_identified":
            self.line(f"round {event['round']}: {event['failures']} failed learned calls; revising {event['target']}")
        elif kind == "learning_done":
            self.line(f"learning stopped: {event['stop_reason']}; best candidate {event['best_id']}")
