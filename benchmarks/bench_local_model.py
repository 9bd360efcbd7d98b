"""Speed and memory of the embedded local model server (llama-cpp-python, 2 threads by default).

Prints prompt-evaluation and generation tokens/s (from the server's own timings in its log), the
time of a follow-up request that shares the prompt prefix, and the server's resident memory.

    python benchmarks/bench_local_model.py [--n-threads 2] [--gen-tokens 64] [--requests 3] [--soak 50] [--model-path FILE]

``--agent`` instead plays Act episodes on the gripper ladder (primitives only, ``run.py --graph act``) and
prints, per agent step, the prompt tokens llama.cpp evaluated (the rest came from its prefix match with the
previous request) and the seconds, read off the server's own log:

    python benchmarks/bench_local_model.py --agent [--sizes 2] [--max-steps 20] [-- more run.py flags]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from learnact.llm.local import LocalServer  # noqa: E402

SYSTEM = (
    "You are an agent in a gripper world. Primitive actions: pick(obj, room, gripper) picks obj up in room with a free "
    "gripper; move(src, dst) moves the robot between rooms; drop(obj, room, gripper) drops a carried obj in room. "
) * 4  # a few hundred tokens, like an Act prompt
_TIMING = re.compile(r"(prompt eval|eval) time =\s+([\d.]+) ms /\s+(\d+) (?:tokens|runs)")
_TOTAL = re.compile(r"total time =\s+([\d.]+) ms /\s+(\d+) tokens")
ROOT = Path(__file__).resolve().parent.parent


def chat(base_url: str, user: str, max_tokens: int) -> dict:
    body = {"model": "local", "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}], "max_tokens": max_tokens, "temperature": 0}
    req = urllib.request.Request(base_url + "/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as reply:
        return json.loads(reply.read())


def timings(log: Path, start: int) -> list[tuple[str, float, int]]:
    text = log.read_text(errors="replace")[start:]
    return [(kind, float(ms), int(n)) for kind, ms, n in _TIMING.findall(text)]


def agent_steps(args: argparse.Namespace) -> None:
    """Act episodes with the embedded model; evaluated prompt tokens and seconds per agent step."""
    import statistics
    import subprocess
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    log = work / "server.log"
    cmd = [sys.executable, str(ROOT / "run.py"), "--graph", "act", "--env", "pddl/gripper", "--ladder", "--sizes", args.sizes,
           "--per-size", "1", "--max-steps", str(args.max_steps), "--model", "local", "--run-dir", str(work / "run"),
           *[a for a in args.rest if a != "--"]]  # fmt: skip
    print("$ " + " ".join(cmd))
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env={**os.environ, "LEARNACT_SERVER_LOG": str(log)})
    wall = time.monotonic() - t0
    text = log.read_text(errors="replace")
    # One llama_perf block per request: "prompt eval time = X ms / N tokens" is what was evaluated, "total time"
    # the request's own time. The first request of the server is the start-up check's one token.
    evaluated = [int(n) for kind, _, n in _TIMING.findall(text) if kind == "prompt eval"][1:]
    seconds = [float(ms) / 1000 for ms, _ in _TOTAL.findall(text)][1:]
    episodes = [json.loads(line) for line in (work / "run" / "episodes.jsonl").read_text().splitlines() if line.strip()]
    steps = sum(e["steps"] for e in episodes)
    prompt = sum(e["prompt_tokens"] for e in episodes)
    print(f"{len(episodes)} episode(s), {steps} agent steps, {len(evaluated)} model requests, {wall:.0f} s in all")
    print(f"successes: {sum(e['success'] for e in episodes)}/{len(episodes)}; prompt tokens sent: {prompt} ({prompt / max(steps, 1):.0f} per step)")
    if evaluated:
        print(f"evaluated prompt tokens per request: mean {statistics.mean(evaluated):.0f}, median {statistics.median(evaluated):.0f}, "
              f"max {max(evaluated)}, sum {sum(evaluated)} ({sum(evaluated) / max(steps, 1):.0f} per agent step)")  # fmt: skip
        warm = evaluated[1:]  # the first request evaluates the system message and the worked turns once
        if warm:
            print(f"after the first request: mean {statistics.mean(warm):.0f}, median {statistics.median(warm):.0f}, max {max(warm)} "
                  f"evaluated prompt tokens per agent step (first request: {evaluated[0]})")  # fmt: skip
    if seconds:
        print(f"seconds per request: mean {statistics.mean(seconds):.2f}, median {statistics.median(seconds):.2f}; "
              f"per agent step (episode wall time) {sum(e['elapsed_s'] or 0 for e in episodes) / max(steps, 1):.2f}")  # fmt: skip
    print(f"server log: {log}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", action="store_true", help="play Act episodes on the gripper ladder; evaluated tokens per step")
    ap.add_argument("--sizes", default="2", help="--agent: ladder sizes (gripper balls), e.g. 2 or 1-3")
    ap.add_argument("--max-steps", type=int, default=20, help="--agent: the episode's step cap")
    ap.add_argument("rest", nargs=argparse.REMAINDER, help="--agent: more run.py flags after --")
    ap.add_argument("--n-threads", type=int, default=2)
    ap.add_argument("--n-threads-batch", type=int, default=None, help="threads for prompt evaluation (default: --n-threads)")
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--requests", type=int, default=3)
    ap.add_argument("--soak", type=int, default=0, help="then N short requests with changing prompts, RSS every 10 (memory stays bounded?)")
    ap.add_argument("--model-path")
    args = ap.parse_args()
    if args.agent:
        agent_steps(args)
        return
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.2f} (other work on the cores slows llama.cpp a lot)")
    print(f"n_threads {args.n_threads}, n_threads_batch {args.n_threads_batch or args.n_threads}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'PASSIVE (LocalServer default)')}")
    t0 = time.monotonic()
    with LocalServer(model_path=args.model_path, n_threads=args.n_threads, n_threads_batch=args.n_threads_batch) as server:
        print(f"server up in {time.monotonic() - t0:.1f} s, RSS {server.rss_mb():.0f} MB (model file is mmapped: its pages count)")
        assert server.log_path is not None
        peak = server.rss_mb()
        for i in range(args.requests):
            mark = len(server.log_path.read_text(errors="replace"))
            t = time.monotonic()
            reply = chat(server.base_url, f"Step {i}: write a short plan to carry ball{i} from rooma to roomb, one action per line.", args.gen_tokens)
            wall = time.monotonic() - t
            time.sleep(0.2)  # the timings are logged right after the reply
            got = {kind: (ms, n) for kind, ms, n in timings(server.log_path, mark)}
            usage = reply.get("usage", {})
            pe, ev = got.get("prompt eval"), got.get("eval")
            # llama.cpp's own prompt-eval timer is unreliable on the first request: use wall time minus generation.
            pe_ms = wall * 1000 - (ev[0] if ev else 0)
            pe_s = f"{pe[1] / pe_ms * 1000:.1f} tok/s over {pe[1]} new prompt tokens" if pe and pe_ms > 0 else "n/a"
            ev_s = f"{ev[1] / ev[0] * 1000:.1f} tok/s over {ev[1]} tokens" if ev and ev[0] > 0 else "n/a"
            peak = max(peak, server.rss_mb())
            print(f"request {i}: {wall:.1f} s wall, prompt {usage.get('prompt_tokens')} tokens; prompt eval {pe_s}; generation {ev_s}; RSS {server.rss_mb():.0f} MB")
        for i in range(args.soak):
            chat(server.base_url, f"Request {i}: name one colour. " + "context " * (i % 7) * 20, 4)
            peak = max(peak, server.rss_mb())
            if (i + 1) % 10 == 0:
                print(f"soak {i + 1}/{args.soak}: RSS {server.rss_mb():.0f} MB")
        print(f"peak server RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
