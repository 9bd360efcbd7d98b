"""A deterministic scripted model for ``benchmarks.stub_server``: every reply is a function of the request's
messages only, never of the order, timing or number of requests. A run killed and resumed, a run
through injected faults and an uninterrupted run therefore get the same replies for the same prompts,
which is what ``benchmarks/chaos.py`` compares.

It plays every role the project asks a model for, on gripper (and, crudely, ALFWorld):

- the agent (compact Act and ReAct prompts): reads the state view and answers the next step of a
  greedy gripper plan; a share of its replies (``noise``, chosen by a hash of the prompt) is a refused
  call instead, so some episodes fail. Offered ``carry``, it calls it where it fits, in the first round
  with the rooms swapped for about half of the prompts (a failed learned call that revision must fix);
- Code-as-Policies: a program that runs the greedy plan (cut short for a ``noise`` share of tasks);
- the learner: ``carry`` on creation and repair, a usage demonstration, and a revision that is either a
  Plan note or an Update that first goes to the source room (by a hash of the prompt);
- Reflexion's lesson.

On ALFWorld the agent cycles through a few plausible commands: it does not solve the games, it only
has to be the same every time.
"""

from __future__ import annotations

import hashlib
import re

from benchmarks.stub_server import Reply

CARRY = '''def carry(obj, src, dst, gripper):
    """Carry a ball from one room to another with one gripper."""
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''
CARRY_UPDATED = '''def carry(obj, src, dst, gripper):
    """Carry a ball from src to dst, going to src first."""
    here = find('at-robby')
    if here != src:
        move(here, src)
    pick(obj, src, gripper)
    move(src, dst)
    return drop(obj, dst, gripper)
'''
NOTE = "Pass the room the ball is in as src."
DEMO = "Goal: ball1 in roomb\nObservation: Robby is in rooma.\nAction: carry('ball1', 'rooma', 'roomb', 'left')\nObservation: done"
LESSON = "Go to the room the ball is in before picking it up, and drop it only in its goal room."
ALFWORLD_MOVES = (
    "look",
    "go to countertop 1",
    "go to cabinet 1",
    "open cabinet 1",
    "inventory",
    "go to shelf 1",
    "go to drawer 1",
)

CARRY_CALL = re.compile(r"carry\('(\w+)', '(\w+)', '(\w+)', '(\w+)'\)")


def digest(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12], 16)


def _text(content) -> str:
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


class ScriptedModel:
    """``respond(body) -> Reply`` for ``StubOpenAI(respond=...)``; ``noise`` in [0, 1]."""

    def __init__(self, noise: float = 0.2, delay_s: float = 0.0):
        self.noise = noise
        self.delay_s = delay_s

    def __call__(self, body: dict) -> Reply:
        messages = body.get("messages") or []
        system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
        users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
        user = users[-1] if users else ""
        text = self.reply(system, user)
        return Reply(
            text=text,
            prompt_tokens=10 + len(system + user) // 40,
            completion_tokens=2 + len(text) // 8,
            delay_s=self.delay_s,
        )

    def noisy(self, *parts: str) -> bool:
        return digest("\0".join(parts)) % 1000 < self.noise * 1000

    def reply(self, system: str, user: str) -> str:
        if "You write a Python program" in system:
            return self.program(user)
        if "You analyse a failed attempt" in system:
            return LESSON
        if "You fix Python functions" in system:
            return f"```python\n{CARRY}```"
        if "You write short usage demonstrations" in system:
            return DEMO
        if "You improve Python functions" in system:
            return self.revision(user)
        if "You write Python functions" in system:
            return f"Here are the actions:\n```python\n{CARRY}```"
        return self.act(system, user)

    # -- the agent --------------------------------------------------------------------------------
    def act(self, system: str, user: str) -> str:
        step = re.findall(r"^Step (\d+)\.$", user, re.MULTILINE)
        if "either think or act" in system and step and step[-1] == "1":
            return "Think: I carry each ball to its room, one at a time."
        view = user.rsplit("Now:\n", 1)[-1]
        state = parse_view(view)
        if state is None:  # ALFWorld (or a view this script does not know)
            return ALFWORLD_MOVES[digest(user) % len(ALFWORLD_MOVES)]
        robby, held, loc, goal = state
        if self.noisy(system, user):
            return f"pick('{next(iter(sorted(goal)), 'ball1')}', 'nowhere', 'left')"  # refused: no such room
        if "carry(" in system and not held:
            free = [g for g in ("left", "right") if g not in held]
            here = [b for b in sorted(loc) if loc[b] == robby and goal.get(b, robby) != robby]
            if here and free:
                ball = here[0]
                fixed = NOTE in system or "going to src first" in system
                if not fixed and digest(user) % 2 == 0:
                    return f"carry('{ball}', '{goal[ball]}', '{robby}', '{free[0]}')"  # rooms swapped: fails
                return f"carry('{ball}', '{robby}', '{goal[ball]}', '{free[0]}')"
        action = next_action(robby, held, loc, goal)
        return action or f"move('{robby}', '{robby}')"

    # -- Code-as-Policies --------------------------------------------------------------------------
    def program(self, user: str) -> str:
        state = parse_facts(user)
        plan = gripper_plan(*state) if state else ["look()"]
        if self.noisy(user) and len(plan) > 1:
            plan = plan[:-1]  # one step short: the episode fails
        return "```python\ndef solve():\n" + "".join(f"    {a}\n" for a in plan) + "```"

    # -- the learner -------------------------------------------------------------------------------
    def revision(self, user: str) -> str:
        calls = CARRY_CALL.findall(user)
        test = (
            f"carry('{calls[-1][0]}', '{calls[-1][2]}', '{calls[-1][1]}', '{calls[-1][3]}')"
            if calls
            else "carry('ball1', 'rooma', 'roomb', 'left')"
        )
        if digest(user) % 2:
            return f"Failed reason: the rooms were passed the wrong way round.\nImprove: Plan: carry\nContent: {NOTE}\nTest case: {test}"
        return (
            "Failed reason: carry assumed the robot starts in src.\nImprove: Update\nContent:\n"
            f"```python\n{CARRY_UPDATED}```\nTest case: {test}"
        )


# -- gripper ----------------------------------------------------------------------------------------
State = tuple[
    str, dict[str, str], dict[str, str], dict[str, str]
]  # robby, gripper -> ball, ball -> room, ball -> goal room


def parse_view(view: str) -> State | None:
    """The gripper state view (environments/pddl/views.py) as (robby, held, loc, goal)."""
    m = re.search(r"^Robby is in (\w+)\.", view, re.MULTILINE)
    if m is None:
        return None
    held = {g: b for g, b in re.findall(r"^The (\w+) gripper holds (\w+)\.", view, re.MULTILINE)}
    loc: dict[str, str] = {}
    goal: dict[str, str] = {}
    for ball, room in re.findall(r"^Done: (\w+) is in (\w+)\.", view, re.MULTILINE):
        loc[ball] = goal[ball] = room
    for ball, where, target in re.findall(
        r"^To do: (\w+) is (in the \w+ gripper|in \w+); it must go to (\w+)\.", view, re.MULTILINE
    ):
        goal[ball] = target
        if "gripper" not in where:
            loc[ball] = where.split()[-1]
    return m.group(1), held, loc, goal


def parse_facts(text: str) -> State | None:
    """The initial observation and goal sentences of a gripper task (environments/pddl/text.py)."""
    obs = text.split("Initial observation:", 1)[-1]
    goal_text = text.split("Goal:", 1)[-1].split("Initial observation:", 1)[0] if "Goal:" in text else ""
    m = re.search(r"Robby is at (\w+)\.", obs)
    if m is None:
        return None
    held = {g: b.lower() for b, g in re.findall(r"carrying (\w+) in the (\w+) gripper", obs)}
    loc = {b.lower(): r for b, r in re.findall(r"(Ball\d+) is at (\w+)\.", obs)}
    goal = {b.lower(): r for b, r in re.findall(r"(Ball\d+) is at (\w+)\.", goal_text)}
    return m.group(1), held, loc, goal


def next_action(robby: str, held: dict[str, str], loc: dict[str, str], goal: dict[str, str]) -> str | None:
    """One step of a greedy plan: drop what belongs here, pick what must leave, else move."""
    for g, b in sorted(held.items()):
        if goal.get(b) == robby:
            return f"drop('{b}', '{robby}', '{g}')"
    free = [g for g in ("left", "right") if g not in held]
    here = [b for b in sorted(loc) if loc[b] == robby and goal.get(b, robby) != robby]
    if here and free:
        return f"pick('{here[0]}', '{robby}', '{free[0]}')"
    for _, b in sorted(held.items()):
        if goal.get(b):
            return f"move('{robby}', '{goal[b]}')"
    todo = [b for b in sorted(loc) if goal.get(b, loc[b]) != loc[b]]
    return f"move('{robby}', '{loc[todo[0]]}')" if todo else None


def gripper_plan(
    robby: str, held: dict[str, str], loc: dict[str, str], goal: dict[str, str], limit: int = 60
) -> list[str]:
    held, loc, plan = dict(held), dict(loc), []
    while len(plan) < limit and (action := next_action(robby, held, loc, goal)):
        plan.append(action)
        name, args = action.split("(", 1)
        a = re.findall(r"'(\w+)'", args)
        if name == "move":
            robby = a[1]
        elif name == "pick":
            loc.pop(a[0], None)
            held[a[2]] = a[0]
        else:
            held.pop(a[2], None)
            loc[a[0]] = a[1]
    return plan
