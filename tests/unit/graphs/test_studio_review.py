"""A person in the loop over LangGraph's HTTP API (what Studio uses): `langgraph dev` runs `learn` with the context field
`review`, streams node updates and custom events (`stream_mode` updates and custom) up to the review's interrupt,
whose value is the typed `ReviewRequest`; the run is resumed with `Command(resume=...)`: one rejection, one edit."""

from __future__ import annotations

import json
import urllib.request

from conftest_helpers import CARRY, tiny_gripper
from test_studio import _http, langgraph_dev, stub  # noqa: F401 - the fixtures, used by name

EDITED = CARRY.replace(
    "Carry a ball from one room to another with one gripper.", "Carry a ball between rooms (a person's edit)."
)
REASON = "Two copies of the same action: keep one."


def stream(base: str, thread: str, body: dict) -> list[tuple[str, object]]:
    """POST .../runs/stream and read its server-sent events to the end: [(event, data)]."""
    request = urllib.request.Request(
        f"{base}/threads/{thread}/runs/stream",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
    )
    events, name = [], None
    with urllib.request.urlopen(request, timeout=180) as reply:
        for raw in reply:
            line = raw.decode().rstrip("\n").rstrip("\r")
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:") and name is not None:
                events.append((name, json.loads(line[len("data:") :].strip() or "null")))
    return events


def test_a_learn_run_is_reviewed_over_http_with_a_rejection_and_an_edit(langgraph_dev, stub, tmp_path):  # noqa: F811
    run_dir = tmp_path / "learn-run"
    context = {
        "learner_model_name": "stub-learner",
        "candidates": 2,
        "learn_max_steps": 4,
        "max_rounds": 1,
        "run_dir": str(run_dir),
        "review": True,
    }
    thread = _http("POST", langgraph_dev + "/threads", {})["thread_id"]
    inputs = {"env_name": "pddl/gripper", "train_instances": [tiny_gripper(tmp_path)]}
    events = stream(
        langgraph_dev,
        thread,
        {
            "assistant_id": "learn",
            "input": inputs,
            "context": context,
            "stream_mode": ["updates", "custom"],
            "stream_subgraphs": True,
        },
    )
    kinds = {name.split("|")[0] for name, _ in events}  # a subgraph's: "custom|create_candidate:<task id>"
    assert {"updates", "custom"} <= kinds, kinds
    custom = [data["event"] for name, data in events if name.split("|")[0] == "custom"]
    assert (
        custom.count("candidate_ready") == 2
    )  # the creation subgraph's events, as the terminal's live view shows them
    assert "review_requested" in custom and "rollout_start" not in custom  # paused before anything ran
    updates = [data for name, data in events if name == "updates"]
    assert any("gather" in u for u in updates)  # a node's update
    (interrupt,) = next(u["__interrupt__"] for u in updates if "__interrupt__" in u)
    request = interrupt["value"]
    assert request["kind"] == "review" and request["round"] == 0
    assert [(f["candidate_id"], f["name"], f["status"]) for f in request["functions"]] == [
        ("r0s0", "carry", "new"),
        ("r0s1", "carry", "new"),
    ]
    assert "+def carry(obj, src, dst, gripper):" in request["functions"][0]["diff"]
    state = _http("GET", f"{langgraph_dev}/threads/{thread}/state")  # the thread's checkpoint holds the pending review
    assert state["next"] == ["review"] and state["tasks"][0]["interrupts"][0]["value"] == request

    answers = [
        {"candidate_id": "r0s0", "name": "carry", "decision": "reject", "reason": REASON},
        {
            "candidate_id": "r0s1",
            "name": "carry",
            "decision": "edit",
            "code": EDITED,
            "reason": "a clearer description",
        },
    ]
    events = stream(
        langgraph_dev,
        thread,
        {
            "assistant_id": "learn",
            "command": {"resume": answers},
            "context": context,
            "stream_mode": ["updates", "custom"],
        },
    )
    custom = [data for name, data in events if name == "custom"]
    assert {"event": "review_done", "round": 0, "approved": 0, "rejected": 1, "edited": 1} in custom
    assert [e["candidate_id"] for e in custom if e["event"] == "rollout_start"] == [
        "r0s1"
    ]  # the rejected one never ran
    assert any("score" in data for name, data in events if name == "updates")
    final = _http("GET", f"{langgraph_dev}/threads/{thread}/state")["values"]
    assert final["stop_reason"] == "nothing_failed" and final["best"]["id"] == "r0s1"
    assert final["review_notes"] == [
        {"round": 0, "candidate_id": "r0s0", "name": "carry", "reason": REASON, "code": CARRY.strip("\n")}
    ]
    history = [json.loads(line) for line in (run_dir / "library" / "history.jsonl").read_text().splitlines()]
    assert [(h["name"], h["version"], h.get("author"), h["description"]) for h in history] == [
        ("carry", 2, "person", "Carry a ball between rooms (a person's edit).")
    ]
    assert json.loads((run_dir / "candidates" / "r0s0.json").read_text())["status"] == "dropped"
