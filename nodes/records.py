"""The JSONL record of one finished episode (one line per episode in a run folder)."""
from __future__ import annotations

from typing import Any

from .state import EpisodeState


def episode_record(state: EpisodeState, *, method: str, usage: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    steps = state.get("steps", [])
    usage = usage or {}
    return {
        "episode_id": state["episode_id"],
        "method": method,
        "env": state["env_name"],
        "instance": state["instance"],
        "success": bool(state.get("success")),
        "progress": float(state.get("progress", 0.0)),
        "steps": len(steps),
        "primitive_steps": sum(len(s.get("trace", [])) for s in steps),
        "learned_calls": sum(1 for s in steps if s.get("is_learned")),
        "failed_learned_calls": sum(1 for s in steps if s.get("is_learned") and not s.get("ok")),
        "stop_reason": state.get("stop_reason", ""),
        "elapsed_s": round(float(state.get("ended_at", 0.0)) - float(state.get("started_at", 0.0)), 3)
        if state.get("ended_at")
        else None,
        "tokens": int(usage.get("total_tokens", 0)),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
        "cost": None if usage.get("cost") is None else float(usage["cost"]),  # None: no price known for the model
        "goal": state.get("goal", ""),
        "first_observation": state.get("first_observation", ""),
        "trajectory": steps,
        **({"program": state["program"]} if state.get("program") else {}),
        **extra,
    }
