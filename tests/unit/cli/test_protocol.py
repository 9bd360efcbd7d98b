"""``--protocol paper`` and the ablations: the paper's settings in one flag, recorded in config.json and
matching the README's protocol table; each setting reaches the component it changes (the PDDL env's
feedback, the executor's judging of a learned call, the learner's revision kinds and demonstration,
the plateau rule), and the history window's unit is the documented one."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest_helpers import TINY_PLAN, actions_taken, tiny_gripper
from fakes import calls_of, node_of_prompt
from test_e2e_cli import ROOT, by_prompt, cli, cli_env, read_jsonl
from test_learn_graph import BAD_CALL, DEMO, GOOD_CALL, PLAN, UPDATE, agent, learn, learner

from environments import make_env
from environments.data import DataNotFoundError
from environments.pddl.env import GENERIC_INVALID
from learnact.actions import ActionLibrary, Executor
from learnact.cli.flags import build_parser
from learnact.cli.protocol import DEFAULT_PROTOCOL, PAPER_PROTOCOL, render_value
from learnact.cli.resolve import resolve_settings
from learnact.cli.session import make_context
from learnact.settings.render import protocol_table, table_region
from learnact.settings.table import SETTINGS
from nodes.episodes import EpisodeRegistry
from nodes.history import render_history

LESSON = "Pick the ball where it is."


def settings_for(*argv: str) -> dict:
    return resolve_settings(build_parser().parse_args(list(argv)))


def family_value(value, env: str):
    return value[env.split("/")[0]] if isinstance(value, dict) else value


def recorded(config: dict, key: str, env: str):
    """Where config.json keeps protocol setting ``key`` for task type ``env``."""
    if key == "learner_temperature":
        return config["models"]["learner"]["temperature"]
    if key in ("max_steps", "history_window") and config["graph"] == "evaluate":
        return config["per_env"][env][key]
    return config[key]


# ------------------------------------------------------------------ resolution of the settings
LEARN = ("--graph", "learn", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1")


def test_paper_protocol_sets_the_paper_values_and_default_keeps_ours():
    paper, ours = settings_for(*LEARN, "--protocol", "paper"), settings_for(*LEARN)
    for key in PAPER_PROTOCOL:
        if key in (
            "max_steps",
            "runs",
        ):  # a learn run's --max-steps is its rollout cap, learn_max_steps; it has no runs
            continue
        assert recorded(paper, key, "pddl/gripper") == family_value(PAPER_PROTOCOL[key], "pddl/gripper"), key
        assert recorded(ours, key, "pddl/gripper") == family_value(DEFAULT_PROTOCOL[key], "pddl/gripper"), key
    assert (paper["protocol"], paper["protocol_departures"], ours["protocol"]) == ("paper", {}, "default")
    assert "protocol_departures" not in ours
    act = settings_for("--graph", "act", "--env", "alfworld/put", "--instance", "some-game", "--protocol", "paper")
    assert (act["max_steps"], act["history_window"], act["feedback"]) == (20, 25, "generic")


# What config.json records that is not a setting of the method: what to run on, with which models, where, how fast.
RUN_INPUTS = {
    "graph",
    "env",
    "envs",
    "data_dir",
    "train_instances",
    "instances",
    "train",
    "test",
    "split",
    "models",
    "concurrency",
    "executor",
    "ray_address",
    "prompts",
    "cache",
    "protocol",
    "protocol_departures",
    "actions",
    "per_env",
    "episode_max_steps",
    "learning_seeds",
    "methods",
    "review",  # a person in the loop (issue 28): who answers, not how the method learns
}


@pytest.mark.parametrize(
    "argv",
    [
        LEARN,
        ("--graph", "act", "--env", "pddl/gripper", "--instance", "gen:seed=1,balls=1"),
        (
            "--graph",
            "evaluate",
            "--methods",
            "act,react,reflexion,code_as_policy,learnact",
            "--instance",
            "gen:seed=1,balls=1",
        ),
    ],
)
def test_a_paper_config_holds_only_values_the_readme_table_lists_as_the_papers(argv):
    """Every setting a ``--protocol paper`` run records is a setting of the table; one the protocols differ on has the
    value the README's protocol table gives as the paper's, any other this project's default."""
    config = settings_for(*argv, "--protocol", "paper")
    rows = readme_rows()
    for key, value in config.items():
        if key in RUN_INPUTS:
            continue
        assert key in SETTINGS, (
            f"config.json records {key}={value!r}, which is no setting of learnact/settings/table.py"
        )
        matching = [r for r in rows if f"(`{key}`)" in r[3]]
        if key in PAPER_PROTOCOL or key == "assist":
            assert matching, f"config.json records {key}={value!r}, which the README's protocol table has no row for"
            paper = PAPER_PROTOCOL.get(key, "none")
            assert value == family_value(paper, "pddl/gripper"), key
            assert any(f"`{render_value(paper)}`" in r[2] for r in matching), key
        elif not SETTINGS[key].default_text:  # a knob both protocols share: the paper's value is this project's default
            assert not matching and value == SETTINGS[key].value("pddl/gripper"), (key, value)
    decoding = {k: config[k] for k in ("grammar", "typed_grammar", "resample_refused", "history_trim", "prompt_set")}
    assert decoding == {
        "grammar": False,
        "typed_grammar": False,
        "resample_refused": 0,
        "history_trim": "last",
        "prompt_set": "paper",
    }
    assert not config["creation_trials"] and not config["probe_unused"] and not config["state_queries"]
    assert config["models"]["learner"]["temperature"] == 0.0 and config["models"]["agent"]["temperature"] == 0.0
    assert config["assist"] == "none"


def test_the_paper_tests_on_every_instance_three_times():
    try:
        paper = settings_for(
            "--graph", "evaluate", "--env", "pddl/gripper", "--methods", "act,learnact", "--protocol", "paper"
        )
        ours = settings_for("--graph", "evaluate", "--env", "pddl/gripper", "--methods", "act,learnact")
    except DataNotFoundError as exc:
        pytest.skip(f"needs the benchmark's split files: {exc}")
    train = paper["train"]["pddl/gripper"]
    assert set(train) <= set(paper["test"]["pddl/gripper"]) and not set(train) & set(ours["test"]["pddl/gripper"])
    assert (paper["runs"], ours["runs"], paper["test_set"], ours["test_set"]) == (3, 1, "all", "split")
    assert (
        settings_for("--graph", "evaluate", "--env", "pddl/gripper", "--protocol", "paper", "--test-set", "split")[
            "test"
        ]
        == ours["test"]
    )


def test_an_explicit_flag_beats_the_protocol_and_is_listed_as_a_departure():
    s = settings_for(
        *LEARN, "--protocol", "paper", "--candidates", "2", "--learner-temperature", "0.5", "--patience", "1"
    )
    assert (s["candidates"], s["models"]["learner"]["temperature"], s["patience"]) == (2, 0.5, 1)
    assert s["max_rounds"] == 2 and s["protocol_departures"] == {
        "candidates": 2,
        "learner_temperature": 0.5,
        "patience": 1,
    }


def test_the_small_default_run_yields_to_the_paper_protocol():
    assert (settings_for("--graph", "learn")["candidates"], settings_for("--graph", "learn")["max_rounds"]) == (2, 2)
    paper = settings_for("--graph", "learn", "--protocol", "paper")
    assert (paper["candidates"], paper["max_rounds"], paper["learn_max_steps"]) == (4, 2, 10)


def test_evaluate_gives_each_task_type_its_own_score_step_cap_and_history_window():
    """The score used to come from the first task type only: ALFWorld learned with the PDDL score."""
    argv = ("--graph", "evaluate", "--methods", "learnact", "--env", "pddl/gripper,alfworld/put")
    try:
        s = settings_for(*argv)
    except DataNotFoundError as exc:
        pytest.skip(f"needs the benchmark's split files: {exc}")
    assert s["per_env"]["pddl/gripper"] == {
        "max_steps": 30,
        "history_window": 20,
        "score": "step_correction_call_ratio_success",
    }
    assert s["per_env"]["alfworld/put"] == {"max_steps": 20, "history_window": 50, "score": "call_ratio_success"}
    forced = settings_for(*argv, "--score", "step_correction", "--protocol", "paper")
    assert {e: v["score"] for e, v in forced["per_env"].items()} == {
        "pddl/gripper": "step_correction",
        "alfworld/put": "step_correction",
    }
    assert {e: v["history_window"] for e, v in forced["per_env"].items()} == {"pddl/gripper": 10, "alfworld/put": 25}


def test_settings_reach_the_context_and_its_episode_registry(tmp_path):
    from learnact.cli.runs import RunDir

    s = settings_for(*LEARN, "--protocol", "paper", "--revision", "update", "--no-demonstration")
    ctx = make_context(s, {"agent": None, "learner": None}, None, RunDir(tmp_path / "run"))
    assert (ctx.revision, ctx.demonstration, ctx.patience, ctx.history_window) == ("update", False, 0, 10)
    assert ctx.episodes.env_options == {"feedback": "generic"} and ctx.episodes.learned_call_invalid == "continue"
    assert (s["revision"], s["demonstration"]) == ("update", False)


@pytest.mark.parametrize(
    "argv,message",
    [(("--patience", "-1"), "--patience must be 0 or more"), (("--revision", "notes"), "invalid choice")],
)
def test_bad_protocol_flags_are_one_line(argv, message, tmp_path):
    out = subprocess.run(
        cli(*LEARN, *argv, "--run-dir", str(tmp_path / "r")), capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------ the README's table
def readme_rows() -> list[list[str]]:
    """The README's protocol table (test_settings checks that the README holds the generated one)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table_region(text) == protocol_table()
    rows = [line for line in protocol_table().splitlines()[2:]]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in rows]


def test_readme_protocol_table_matches_the_code():
    rows = readme_rows()
    assert all(len(r) == 5 for r in rows) and len(rows) >= 20
    for key in PAPER_PROTOCOL:
        (row,) = [r for r in rows if f"(`{key}`)" in r[3]]
        assert f"`{render_value(DEFAULT_PROTOCOL[key])}`" in row[1], (key, row[1])
        assert f"`{render_value(PAPER_PROTOCOL[key])}`" in row[2], (key, row[2])
    (assist,) = [r for r in rows if r[0] == "assist"]
    assert "small with the local model" in assist[1] and assist[2] == "`none`"


def stub_agent(system: str, user: str, node: str | None) -> str:
    if node == "reflexion.reflect":
        return LESSON
    return TINY_PLAN[min(actions_taken(user), len(TINY_PLAN) - 1)]


def test_evaluate_with_protocol_paper_records_the_table_and_runs_it(stub_server, tmp_path):
    stub = stub_server(respond=by_prompt(stub_agent))
    run_dir = tmp_path / "run"
    unsolved = "gen:seed=5,balls=1"  # ball1 starts in roomb: TINY_PLAN's pick in rooma is refused
    out = subprocess.run(
        cli(
            "--graph",
            "evaluate",
            "--protocol",
            "paper",
            "--methods",
            "act,reflexion",
            "--instance",
            unsolved,
            "--concurrency",
            "2",
            "--base-url",
            stub.url,
            "--model",
            "stub-model",
            "--run-dir",
            str(run_dir),
        ),
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["protocol"] == "paper" and config["protocol_departures"] == {}
    rows = readme_rows()
    for key, value in PAPER_PROTOCOL.items():  # the table's paper column is what the run recorded
        (row,) = [r for r in rows if f"(`{key}`)" in r[3]]
        assert f"`{render_value(value)}`" in row[2], key
        assert recorded(config, key, "pddl/gripper") == family_value(value, "pddl/gripper"), key
    # ... and the run did what the config says.
    requests = [q.body for q in stub.chat_requests]
    texts = ["\n".join(m["content"] for m in body["messages"]) for body in requests]
    assert any(GENERIC_INVALID in t for t in texts) and not any("is not valid because" in t for t in texts)
    systems = ["\n".join(m["content"] for m in body["messages"] if m["role"] == "system") for body in requests]
    reflections = [b for b, s, t in zip(requests, systems, texts) if node_of_prompt(s, t) == "reflexion.reflect"]
    assert reflections and all(b["temperature"] == 0.0 for b in reflections)
    lessons = json.loads((run_dir / "learning" / "reflexion-pddl-gripper" / "learning_run.json").read_text())
    assert lessons["stop_reason"] == "max_rounds"
    episodes = [r for r in read_jsonl(run_dir / "episodes.jsonl") if r["method"] == "act"]
    assert len(episodes) == 3 and all(e["steps"] == 30 and not e["success"] for e in episodes)  # the paper's 3 runs


# ------------------------------------------------------------------ each setting where it acts
def test_pddl_feedback_generic_is_the_reference_sentence_and_keeps_the_reason(tmp_path):
    named, generic = (make_env("pddl/gripper", tiny_gripper(tmp_path), feedback=f) for f in ("named", "generic"))
    for env in (named, generic):
        env.reset()
    obs_named, *_, info_named = named.step("pick('ball1', 'roomb', 'left')")
    obs_generic, *_, info_generic = generic.step("pick('ball1', 'roomb', 'left')")
    assert "is not valid because" in obs_named and obs_generic == GENERIC_INVALID
    assert not info_generic["valid"] and info_generic["reason"] == info_named["reason"] == obs_named
    with pytest.raises(ValueError, match="feedback"):
        make_env("pddl/gripper", tiny_gripper(tmp_path), feedback="loud")


INVALID_THEN_VALID = '''def wander(a, b):
    """Try to pick in the wrong room, then move anyway."""
    pick('ball1', b, 'left')
    move(a, b)


def wander_back(a, b):
    """Move, then try to pick in the wrong room."""
    move(a, b)
    pick('ball1', b, 'left')
'''


def test_learned_call_invalid_stop_ends_the_call_continue_judges_the_last_step(tmp_path):
    library = ActionLibrary.from_code(INVALID_THEN_VALID)
    outcomes = {}
    for rule in ("stop", "continue"):
        for call in ("wander('rooma', 'roomb')", "wander_back('rooma', 'roomb')"):
            env = make_env("pddl/gripper", tiny_gripper(tmp_path))
            env.reset()
            with Executor(env, library, invalid_primitive=rule) as ex:
                result = ex.run(call)
            outcomes[(rule, call.split("(")[0])] = (
                result.ok,
                [t.valid for t in result.trace],
                getattr(result.error, "kind", None),
            )
    assert outcomes[("stop", "wander")] == (False, [False], "invalid_primitive")
    assert outcomes[("continue", "wander")] == (True, [False, True], None)  # ran on; its last step was valid
    assert outcomes[("stop", "wander_back")] == (False, [True, False], "invalid_primitive")
    assert outcomes[("continue", "wander_back")] == (False, [True, False], "invalid_primitive")
    registry = EpisodeRegistry(learned_call_invalid="continue")
    episode = {
        "episode_id": "e",
        "env_name": "pddl/gripper",
        "instance": tiny_gripper(tmp_path),
        "library": library.to_dict(),
    }
    runtime, _, _ = registry.start(episode, Executor)
    try:
        assert (
            runtime.executor.invalid_primitive == "continue" and registry.sibling().learned_call_invalid == "continue"
        )
    finally:
        registry.close_all()


def revise_prompts(ctx) -> list[str]:
    return [c["user"] for c in calls_of(ctx.learner_model, "learn.revise")]


def test_revision_update_only_asks_for_update_and_drops_a_plan(tmp_path):
    final, ctx = learn(tmp_path, learner(revise=PLAN), agent(BAD_CALL), revision="update")
    prompts = revise_prompts(ctx)
    assert prompts and all("Improve: Update" in p and "Improve: Plan" not in p for p in prompts)
    revisions = [c for c in final["candidates"] if c["round"] == 1]
    assert revisions and all(c["library"] is None and "allows only Update" in c["error"] for c in revisions)
    assert final["best"]["origin"] == "create"


def test_revision_plan_only_asks_for_plan_and_drops_an_update(tmp_path):
    final, ctx = learn(tmp_path, learner(revise=UPDATE), agent(BAD_CALL), revision="plan")
    prompts = revise_prompts(ctx)
    assert prompts and all("Improve: Plan: <function name>" in p and "Improve: Update" not in p for p in prompts)
    assert all(
        c["library"] is None and "allows only Plan" in c["error"] for c in final["candidates"] if c["round"] == 1
    )
    (tmp_path / "both").mkdir()
    both, _ = learn(tmp_path / "both", learner(revise=PLAN), agent(BAD_CALL))  # the default takes either
    assert both["best"]["origin"] == "plan"


def test_no_demonstration_asks_for_none_and_shows_none(tmp_path):
    final, ctx = learn(tmp_path, learner(), agent(GOOD_CALL), demonstration=False)
    assert not calls_of(ctx.learner_model, "learn.demonstrate")
    assert final["best"] is not None and all(c.get("demonstration") == "" for c in final["candidates"])
    assert not any(DEMO in c["system"] + c["user"] for c in ctx.agent_model.calls)
    (tmp_path / "demo").mkdir()
    _, with_demo = learn(tmp_path / "demo", learner(), agent(GOOD_CALL))
    assert calls_of(with_demo.learner_model, "learn.demonstrate")


def test_patience_zero_runs_the_fixed_number_of_rounds(tmp_path):
    useless = PLAN.replace("Pass the room the ball is in as src.", "Think carefully.")
    final, _ = learn(tmp_path, learner(revise=useless), agent(BAD_CALL), patience=0, max_rounds=2)
    assert final["stop_reason"] == "max_rounds" and [r["round"] for r in final["rounds"]] == [0, 1, 2]


def test_history_window_counts_action_observation_pairs_and_the_papers_lines_are_reachable():
    """The reference's window is 20 lines; --history-window 10 (the paper protocol's) shows at most 20."""
    steps = [{"action": f"move('rooma', 'roomb') #{i}", "observation": f"state {i}"} for i in range(40)]
    shown = render_history("start", steps, window=10).splitlines()
    lines = [ln for ln in shown if ln.startswith(("Action:", "Observation:"))]
    assert 10 <= len(lines) <= 20 and lines[-1] == "Observation: state 39"
    assert "one entry = one Action with its Observation" in " ".join(build_parser().format_help().split())


# ------------------------------------------------------------------ the ablation benchmark
def test_bench_ablation_runs_each_distinct_variant_once_and_prints_its_row(stub_server, tmp_path):
    stub = stub_server(respond=by_prompt({**learner(revise=PLAN), "act.decide": agent(GOOD_CALL)}))
    out = subprocess.run(
        [
            *cli()[:1],
            str(ROOT / "benchmarks" / "bench_ablation.py"),
            "--model",
            "stub-model",
            "--sizes",
            "1",
            "--variants",
            "default,candidates-4,max-rounds-1",
            "--run-dir",
            str(tmp_path / "bench"),
            "--",
            "--base-url",
            stub.url,
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = {
        line.split("|")[1].strip().split(" (")[0]: line
        for line in out.stdout.splitlines()
        if line.startswith("| ") and "variant" not in line
    }
    assert set(rows) == {"default", "candidates-4", "max-rounds-1"}
    assert "(= default)" in rows["candidates-4"] and not (tmp_path / "bench" / "candidates-4").exists()
    for name in ("default", "max-rounds-1"):
        config = json.loads((tmp_path / "bench" / name / "config.json").read_text())
        assert config["methods"] == ["learnact"] and config["ladder"]["sizes"] == [1]
        cells = [c.strip() for c in rows[name].split("|")[1:-1]]
        assert (
            re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}", cells[2]) and int(cells[4].replace(",", "")) > 0
        )  # success, learning tokens
    assert json.loads((tmp_path / "bench" / "max-rounds-1" / "config.json").read_text())["max_rounds"] == 1


def test_paper_prompts_without_a_tasks_material_are_refused_before_the_run(tmp_path):
    from learnact.cli.errors import UserError
    from learnact.cli.inputs import check_inputs

    (tmp_path / "paper" / "domains").mkdir(parents=True)
    (tmp_path / "paper" / "domains" / "gripper.md").write_text("## system\nYou move balls.\n")
    settings = settings_for(*LEARN, "--protocol", "paper", "--prompts", str(tmp_path))
    with pytest.raises(UserError, match="--prompt-set paper: .*gripper.md: paper material lacks section"):
        check_inputs(settings)
    check_inputs(settings_for(*LEARN, "--protocol", "paper"))  # the built-in material is complete
