"""The bad-input corpus (issue 17, item 3): run.py fed garbage gives one clear line on stderr and exit
code 2, never a traceback, before any model is needed, and loses nothing that had finished.

Every case runs ``run.py`` as a subprocess. Runs point at a scripted OpenAI-compatible stub on
127.0.0.1 (never the local model server) and each case checks that the stub got no request: the
input is refused before a model is involved. A refused new run leaves no run folder behind; a refused
``--resume`` leaves every file of the run folder byte for byte as it was. Torn JSONL lines (a kill in
the middle of a write) are the one input that is not refused: the resume skips the torn fragment and
finishes, keeping every complete record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_helpers import ROOT, TINY_GRIPPER, TINY_PLAN, plan_agent
from test_e2e_cli import by_prompt

from benchmarks.stub_server import StubOpenAI

PLAIN = {"LEARNACT_PLAIN_PROGRESS": "1", "OPENAI_API_KEY": "sk-test"}
ERROR_PREFIXES = ("error: ", "run.py: error: ", "run.py report: error: ", "run.py prompts: error: ")


# ------------------------------------------------------------------ running run.py


def run_cli(*args: str, prefix: tuple[str, ...] = (), timeout: int = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LEARNACT_DATA", "ALFWORLD_DATA")}
    return subprocess.run(
        [*prefix, sys.executable, str(ROOT / "run.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, **PLAIN},
        timeout=timeout,
    )


def assert_one_clear_line(out: subprocess.CompletedProcess, expected: str) -> None:
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, f"exit {out.returncode}\n{out.stderr}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{out.stderr}"
    assert lines[0].startswith(ERROR_PREFIXES), lines[0]
    assert expected in lines[0], f"{expected!r} not in: {lines[0]}"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (names and contents), to check that a refused command changed none."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def stub():
    """A scripted model that replays the tiny gripper plan (the torn-JSONL resumes use it; no other case may call it)."""
    server = StubOpenAI(respond=by_prompt(plan_agent(TINY_PLAN))).start()
    yield server
    server.stop()


# ------------------------------------------------------------------ the corpus on disk

TINY = TINY_GRIPPER
PDDL_FILES = {
    "unbalanced": "(define (problem p) (:domain gripper-strips)\n (:objects rooma roomb ball1 left right\n (:init (room rooma)",
    "extra_paren": TINY + ")",
    "unknown_init_predicate": TINY.replace("(at ball1 rooma))", "(at ball1 rooma) (flying ball1))"),
    "unknown_goal_predicate": TINY.replace("(:goal (and (at ball1 roomb)))", "(:goal (and (inside ball1 roomb)))"),
    "undeclared_object": TINY.replace("(:goal (and (at ball1 roomb)))", "(:goal (and (at ball9 roomb)))"),
    "wrong_arity": TINY.replace("(at ball1 rooma))", "(at ball1 rooma) (at ball1))"),
    "wrong_domain": TINY.replace("(:domain gripper-strips)", "(:domain blocksworld)"),
    "no_goal": TINY.replace("   (:goal (and (at ball1 roomb))))", ")"),
    "not_strips": TINY.replace("(:goal (and (at ball1 roomb)))", "(:goal (or (at ball1 roomb) (at ball1 rooma)))"),
    "bare_word_in_init": TINY.replace("(:init (room rooma)", "(:init room (room rooma)"),
    "malformed_section": "(define (problem) (:domain gripper-strips))",
    "empty": "",
}
PROMPTS = {
    "missing_placeholder": "=== system ===\nYou act.\n=== user ===\nWhat now?\n",
    "unknown_placeholder": "=== user ===\n{{goal}} {{history}} {{weather}}\n",
    "no_user_section": "Just some text, no sections.\n",
}
ACTIONS = {
    "syntax_error": "def carry(obj, src:\n    return 1\n",
    "module_level_code": "print('hello')\n\ndef carry(obj):\n    return obj\n",
    "module_level_import": "import os\n\ndef carry(obj):\n    return os.getcwd()\n",
    "import_in_function": "def carry(obj):\n    import os\n    return os.system('true')\n",
    "dunder_escape": "def carry(obj):\n    return ().__class__.__bases__[0].__subclasses__()\n",
    "eval_call": "def carry(obj):\n    return eval('1 + 1')\n",
    "open_call": "def carry(obj):\n    return open('/etc/passwd').read()\n",
    "primitive_name": "def move(src, dst):\n    return None\n",
    "no_function": "x = 1\n",
    "class_definition": "def carry(obj):\n    class A:\n        pass\n    return A\n",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("corpus")
    paths: dict[str, str] = {"root": str(root)}

    def put(rel: str, text: str | bytes) -> str:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    paths["tiny"] = put("tiny.pddl", TINY)
    for name, text in PDDL_FILES.items():
        paths[f"pddl_{name}"] = put(f"pddl/{name}.pddl", text)
    paths["pddl_binary"] = put("pddl/binary.pddl", b"\x00\xff\xfe(define\x81")
    for name, text in PROMPTS.items():
        paths[f"prompt_{name}"] = put(f"prompts/{name}.md", text)
    paths["prompt_binary"] = put("prompts/binary.md", b"\xff\xfe=== user ===\n")
    paths["prompts_dir_bad"] = str(Path(put("prompts_dir_bad/dance.md", "=== user ===\nhi\n")).parent)
    for name, text in ACTIONS.items():
        paths[f"actions_{name}"] = put(f"actions/{name}.py", text)
    paths["actions_binary"] = put("actions/binary.py", b"\xff\xfedef carry(obj):\n    return obj\n")
    paths["empty_dir"] = str(root / "empty")
    (root / "empty").mkdir()
    paths["not_a_run"] = str(Path(put("not_a_run/notes.txt", "a folder that is not a run")).parent)
    paths["run_without_library"] = str(
        Path(put("run_without_library/config.json", json.dumps({"graph": "learn"}))).parent
    )
    # Half-present data folders: PDDL without LearnAct's split files or ALFWorld, ALFWorld with no games.
    paths["data_pddl_only"] = str(Path(put("data_pddl_only/pddl/gripper/prob01.pddl", TINY)).parents[2])
    (root / "data_alfworld_empty" / "alfworld" / "json_2.1.1" / "valid_unseen").mkdir(parents=True)
    paths["data_alfworld_empty"] = str(root / "data_alfworld_empty")
    (root / "data_alfworld_only" / "alfworld").mkdir(parents=True)
    paths["data_alfworld_only"] = str(root / "data_alfworld_only")
    paths["a_file"] = paths["tiny"]
    return paths


# ------------------------------------------------------------------ new runs: refused before the run folder or a model

# (id, argv, expected text in the one line). {name} is a corpus path; runs get --run-dir and the stub model.
NEW_RUN_CASES = [
    # flags and flag combinations
    ("unknown_graph", ["--graph", "dance"], "invalid choice: 'dance'"),
    ("non_integer_steps", ["--graph", "act", "--max-steps", "abc"], "invalid int value: 'abc'"),
    ("unknown_flag", ["--graph", "act", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ("unknown_protocol", ["--graph", "act", "--protocol", "fast"], "invalid choice: 'fast'"),
    ("zero_candidates", ["--graph", "learn", "--candidates", "0"], "--candidates must be positive"),
    ("zero_max_steps", ["--graph", "act", "--max-steps", "0"], "--max-steps must be positive"),
    ("zero_runs", ["--graph", "act", "--runs", "0"], "--runs must be positive"),
    ("zero_concurrency", ["--graph", "act", "--concurrency", "0"], "--concurrency must be positive"),
    ("zero_history_window", ["--graph", "act", "--history-window", "0"], "--history-window must be positive"),
    ("negative_max_rounds", ["--graph", "learn", "--max-rounds", "-1"], "--max-rounds must be 0 or more"),
    ("zero_train", ["--graph", "learn", "--train", "0"], "--train must be at least 1"),
    ("negative_recent_steps", ["--graph", "act", "--recent-steps", "-1"], "--recent-steps must be 0 or more"),
    ("zero_max_tokens", ["--graph", "act", "--max-tokens", "0"], "--max-tokens must be positive"),
    ("zero_rps", ["--graph", "act", "--rps", "0"], "--rps must be positive"),
    (
        "negative_temperature",
        ["--graph", "act", "--agent-temperature", "-1"],
        "--agent-temperature must be between 0 and 2",
    ),
    (
        "hot_learner",
        ["--graph", "learn", "--learner-temperature", "5"],
        "--learner-temperature must be between 0 and 2",
    ),
    (
        "valid_only_without_grammar",
        ["--graph", "act", "--valid-actions-only", "--no-grammar"],
        "cannot go with --no-grammar",
    ),
    ("valid_only_remote", ["--graph", "evaluate", "--valid-actions-only"], "only the local model server takes"),
    ("unknown_method", ["--graph", "evaluate", "--methods", "act,magic"], "--methods: unknown magic"),
    ("no_method", ["--graph", "evaluate", "--methods", ","], "--methods: unknown (none given)"),
    ("unknown_env", ["--graph", "act", "--env", "pddl/chess"], "unknown environment 'pddl/chess'"),
    ("unknown_env_family", ["--graph", "evaluate", "--env", "chess/*"], "no environment family 'chess'"),
    ("empty_env", ["--graph", "act", "--env", ""], "--env is empty"),
    ("reversed_sizes", ["--graph", "act", "--sizes", "9-1"], "--sizes '9-1'"),
    ("size_off_the_ladder", ["--graph", "act", "--sizes", "50"], "has no ladder size among 50"),
    ("overlapping_seeds", ["--graph", "act", "--train-seeds", "1-10", "--test-seeds", "5-20"], "overlap"),
    ("zero_per_size", ["--graph", "act", "--per-size", "0"], "--per-size must be positive"),
    ("ladder_on_alfworld", ["--graph", "act", "--ladder", "--env", "alfworld/put"], "alfworld/put has no ladder"),
    (
        "missing_model_file",
        ["--graph", "act", "--model", "local", "--model-path", "/nonexistent/model.gguf"],
        "--model-path /nonexistent/model.gguf: no such file",
    ),
    # data folders: missing or half present
    (
        "data_dir_missing",
        ["--graph", "act", "--env", "pddl/gripper", "--data-dir", "/nonexistent/data"],
        "data folder /nonexistent/data does not exist",
    ),
    ("data_dir_is_a_file", ["--graph", "act", "--env", "pddl/gripper", "--data-dir", "{a_file}"], "is not a folder"),
    (
        "data_dir_empty",
        ["--graph", "act", "--env", "pddl/gripper", "--data-dir", "{empty_dir}"],
        "no benchmark data for pddl/gripper",
    ),
    (
        "data_without_pddl",
        ["--graph", "act", "--env", "pddl/gripper", "--data-dir", "{data_alfworld_only}"],
        "no benchmark data for pddl/gripper",
    ),
    (
        "data_without_alfworld",
        ["--graph", "act", "--env", "alfworld/put", "--data-dir", "{data_pddl_only}"],
        "no ALFWorld games under",
    ),
    (
        "data_without_splits",
        ["--graph", "act", "--env", "pddl/gripper", "--data-dir", "{data_pddl_only}"],
        "split files are missing",
    ),
    (
        "learn_data_without_splits",
        ["--graph", "learn", "--env", "pddl/gripper", "--data-dir", "{data_pddl_only}"],
        "split files are missing",
    ),
    (
        "evaluate_half_data",
        ["--graph", "evaluate", "--env", "pddl/gripper,alfworld/put", "--data-dir", "{data_pddl_only}"],
        "split files are missing",
    ),
    # PDDL files with syntax errors or unknown predicates
    (
        "pddl_unbalanced",
        ["--graph", "act", "--instance", "{pddl_unbalanced}"],
        "unbalanced parentheses, 3 '(' never closed",
    ),
    ("pddl_extra_paren", ["--graph", "act", "--instance", "{pddl_extra_paren}"], "unbalanced ')'"),
    (
        "pddl_unknown_init_predicate",
        ["--graph", "act", "--instance", "{pddl_unknown_init_predicate}"],
        "unknown predicate 'flying' in :init",
    ),
    (
        "pddl_unknown_goal_predicate",
        ["--graph", "learn", "--instance", "{pddl_unknown_goal_predicate}"],
        "unknown predicate 'inside' in :goal",
    ),
    (
        "pddl_undeclared_object",
        ["--graph", "act", "--instance", "{pddl_undeclared_object}"],
        "undeclared object 'ball9' in :goal",
    ),
    ("pddl_wrong_arity", ["--graph", "act", "--instance", "{pddl_wrong_arity}"], "'at' takes 2 argument(s)"),
    ("pddl_wrong_domain", ["--graph", "act", "--instance", "{pddl_wrong_domain}"], "is for domain 'blocksworld'"),
    ("pddl_no_goal", ["--graph", "act", "--instance", "{pddl_no_goal}"], "the problem has no goal"),
    ("pddl_not_strips", ["--graph", "act", "--instance", "{pddl_not_strips}"], "goal: 'or' (ADL) is not supported"),
    ("pddl_bare_word", ["--graph", "act", "--instance", "{pddl_bare_word_in_init}"], ":init holds room, not an atom"),
    ("pddl_malformed_section", ["--graph", "act", "--instance", "{pddl_malformed_section}"], "malformed PDDL"),
    ("pddl_empty", ["--graph", "act", "--instance", "{pddl_empty}"], "expected one (define ...) expression"),
    ("pddl_binary", ["--graph", "act", "--instance", "{pddl_binary}"], "not UTF-8"),
    (
        "pddl_missing_file",
        ["--graph", "act", "--instance", "/nonexistent/p.pddl"],
        "problem file /nonexistent/p.pddl does not exist",
    ),
    (
        "evaluate_bad_pddl",
        ["--graph", "evaluate", "--methods", "act", "--instance", "{pddl_unknown_init_predicate}"],
        "unknown predicate 'flying'",
    ),
    # unknown instances
    (
        "unknown_benchmark_instance",
        ["--graph", "act", "--env", "pddl/gripper", "--data-dir", "{data_pddl_only}", "--instance", "prob99"],
        "has no instance 'prob99'; known: prob01",
    ),
    ("bad_generator_key", ["--graph", "learn", "--instance", "gen:seed=1,bals=1"], "unknown size 'bals'"),
    ("bad_generator_value", ["--graph", "act", "--instance", "gen:seed=x"], "gen:seed=x"),
    ("empty_instance", ["--graph", "act", "--instance", ","], "--instance was given without a name"),
    (
        "unknown_alfworld_game",
        [
            "--graph",
            "act",
            "--env",
            "alfworld/put",
            "--data-dir",
            "{data_alfworld_empty}",
            "--instance",
            "no-such-game",
        ],
        "ALFWorld instance 'no-such-game' not found",
    ),
    # prompt files
    (
        "prompt_missing_placeholder",
        ["--graph", "act", "--prompt", "act={prompt_missing_placeholder}"],
        "template must use {{goal}}, {{history}}",
    ),
    (
        "prompt_unknown_placeholder",
        ["--graph", "act", "--prompt", "act={prompt_unknown_placeholder}"],
        "unknown placeholder(s) {{weather}}",
    ),
    (
        "prompt_no_sections",
        ["--graph", "act", "--prompt", "act={prompt_no_user_section}"],
        "needs a '=== user ===' section",
    ),
    ("prompt_binary", ["--graph", "act", "--prompt", "act={prompt_binary}"], "is not UTF-8 text"),
    (
        "prompt_missing_file",
        ["--graph", "learn", "--prompt", "act=/nonexistent/act.md"],
        "cannot read prompt file /nonexistent/act.md",
    ),
    ("prompt_is_a_folder", ["--graph", "act", "--prompt", "act={empty_dir}"], "Is a directory"),
    ("prompt_unknown_node", ["--graph", "act", "--prompt", "dance={prompt_missing_placeholder}"], "unknown node"),
    ("prompt_without_equals", ["--graph", "act", "--prompt", "act.md"], "--prompt expects NODE=FILE"),
    (
        "prompts_dir_missing",
        ["--graph", "act", "--prompts", "/nonexistent/prompts"],
        "--prompts folder /nonexistent/prompts does not exist",
    ),
    ("prompts_dir_stray_file", ["--graph", "act", "--prompts", "{prompts_dir_bad}"], "no node named 'dance'"),
    # --actions: syntax errors, module-level code, hostile code, folders that are not runs
    ("actions_syntax_error", ["--graph", "act", "--actions", "{actions_syntax_error}"], "syntax error at line 1"),
    (
        "actions_module_level_code",
        ["--graph", "act", "--actions", "{actions_module_level_code}"],
        "module-level statement \"print('hello')\"",
    ),
    (
        "actions_module_level_import",
        ["--graph", "act", "--actions", "{actions_module_level_import}"],
        "module-level statement 'import os'",
    ),
    (
        "actions_import_in_function",
        ["--graph", "act", "--actions", "{actions_import_in_function}"],
        "the sandbox refuses function 'carry': line 2: import is not allowed",
    ),
    (
        "actions_dunder_escape",
        ["--graph", "act", "--actions", "{actions_dunder_escape}"],
        "the attribute '__subclasses__'",
    ),
    ("actions_eval", ["--graph", "act", "--actions", "{actions_eval_call}"], "'eval' is not allowed"),
    ("actions_open", ["--graph", "act", "--actions", "{actions_open_call}"], "'open' is not allowed"),
    (
        "actions_class",
        ["--graph", "react", "--actions", "{actions_class_definition}"],
        "class definitions is not allowed",
    ),
    (
        "actions_primitive_name",
        ["--graph", "act", "--actions", "{actions_primitive_name}"],
        "collide with primitive actions",
    ),
    ("actions_no_function", ["--graph", "act", "--actions", "{actions_no_function}"], "module-level statement 'x = 1'"),
    ("actions_binary", ["--graph", "act", "--actions", "{actions_binary}"], "is not UTF-8 Python source"),
    ("actions_missing", ["--graph", "act", "--actions", "/nonexistent/lib.py"], "no such file or folder"),
    ("actions_empty_folder", ["--graph", "act", "--actions", "{empty_dir}"], "is not an action library folder"),
    ("actions_folder_not_a_run", ["--graph", "act", "--actions", "{not_a_run}"], "is not an action library folder"),
    (
        "actions_run_without_library",
        ["--graph", "act", "--actions", "{run_without_library}"],
        "is not an action library folder",
    ),
]


@pytest.mark.parametrize("argv,expected", [pytest.param(a, e, id=i) for i, a, e in NEW_RUN_CASES])
def test_bad_new_run_is_one_line_before_any_model_and_leaves_no_run_folder(argv, expected, corpus, stub, tmp_path):
    run_dir = tmp_path / "run"
    args = [a.format(**corpus) for a in argv]
    model = [] if "--model" in args else ["--model", "stub", "--base-url", stub.url]
    before = len(stub.requests)
    out = run_cli(*args, *model, "--run-dir", str(run_dir))
    assert_one_clear_line(out, expected)
    assert len(stub.requests) == before, "a model was asked before the bad input was refused"
    assert not run_dir.exists(), "a refused run left a run folder behind"


def test_existing_run_folder_is_refused_and_kept(stub, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text('{"graph": "act"}')
    (run_dir / "episodes.jsonl").write_text('{"episode_id": "p1#run0"}\n')
    before = snapshot(run_dir)
    out = run_cli("--graph", "act", "--model", "stub", "--base-url", stub.url, "--run-dir", str(run_dir))
    assert_one_clear_line(out, "already holds a run")
    assert snapshot(run_dir) == before


@pytest.mark.parametrize("where", ["inside_a_file", "is_a_file"])
def test_run_folder_where_a_file_is_is_one_line(where, corpus, stub, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    run_dir = blocker / "run" if where == "inside_a_file" else blocker
    out = run_cli("--graph", "act", "--model", "stub", "--base-url", stub.url, "--run-dir", str(run_dir))
    assert_one_clear_line(out, f"cannot create the run folder {run_dir}")
    assert blocker.read_text() == "a file"


# ------------------------------------------------------------------ read-only folders


@pytest.fixture(scope="module")
def as_unprivileged(tmp_path_factory) -> tuple[str, ...]:
    """A command prefix under which chmod is obeyed: none for a normal user; as root, setpriv dropping
    CAP_DAC_OVERRIDE (root keeps its uid, so it still reads the project). Skips when neither works."""
    if os.geteuid() != 0:
        return ()
    reason = "running as root, where chmod does not stop writes, and setpriv could not drop CAP_DAC_OVERRIDE"
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip(reason + " (no setpriv)")
    prefix = (setpriv, "--bounding-set", "-dac_override,-dac_read_search")
    probe_dir = tmp_path_factory.mktemp("ro-probe")
    probe_dir.chmod(0o555)
    try:
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", f"open({str(probe_dir / 'x')!r}, 'w')"], capture_output=True, text=True
        )
    finally:
        probe_dir.chmod(0o755)
    if probe.returncode == 0 or "PermissionError" not in probe.stderr:
        pytest.skip(reason + f": {probe.stderr.strip()[-200:] or 'the write succeeded'}")
    return prefix


def test_new_run_in_a_read_only_folder_is_one_line(as_unprivileged, stub, tmp_path):
    parent = tmp_path / "readonly"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        out = run_cli(
            "--graph",
            "act",
            "--model",
            "stub",
            "--base-url",
            stub.url,
            "--run-dir",
            str(parent / "run"),
            prefix=as_unprivileged,
        )
    finally:
        parent.chmod(0o755)
    assert_one_clear_line(out, "cannot create the run folder")
    assert "Permission denied" in out.stderr and not (parent / "run").exists()


def chmod_tree(folder: Path, files: int, dirs: int) -> None:
    for p in folder.rglob("*"):
        p.chmod(dirs if p.is_dir() else files)
    folder.chmod(dirs)


def test_resume_on_a_read_only_run_folder_is_one_line_and_changes_nothing(as_unprivileged, finished_act_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(finished_act_run, run_dir)
    (run_dir / "episodes.jsonl").write_text(
        (run_dir / "episodes.jsonl").read_text().splitlines()[0] + "\n"
    )  # one to go
    before = snapshot(run_dir)
    chmod_tree(run_dir, 0o444, 0o555)
    try:
        out = run_cli("--graph", "act", "--resume", str(run_dir), prefix=as_unprivileged)
    finally:
        chmod_tree(run_dir, 0o644, 0o755)
    assert_one_clear_line(out, "is not writable (read-only disk or permissions)")
    assert snapshot(run_dir) == before


def test_report_into_a_read_only_run_folder_is_one_line(as_unprivileged, finished_act_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(finished_act_run, run_dir)
    before = snapshot(run_dir)
    chmod_tree(run_dir, 0o444, 0o555)
    try:
        out = run_cli("report", str(run_dir), prefix=as_unprivileged)
    finally:
        chmod_tree(run_dir, 0o644, 0o755)
    assert_one_clear_line(out, f"cannot write the report to {run_dir / 'report.html'}: the folder is not writable")
    assert snapshot(run_dir) == before


# ------------------------------------------------------------------ --resume


@pytest.fixture(scope="module")
def finished_act_run(stub, tmp_path_factory) -> Path:
    """A real act run on two tiny gripper problems, both episodes recorded (the resume cases copy it)."""
    root = tmp_path_factory.mktemp("act-run")
    instances = []
    for i in range(2):
        (root / f"t{i}.pddl").write_text(TINY)
        instances.append(str(root / f"t{i}.pddl"))
    out = run_cli(
        "--graph",
        "act",
        "--env",
        "pddl/gripper",
        "--instance",
        ",".join(instances),
        "--model",
        "stub",
        "--base-url",
        stub.url,
        "--run-dir",
        str(root / "run"),
    )
    assert out.returncode == 0, out.stderr
    assert len((root / "run" / "episodes.jsonl").read_text().splitlines()) == 2
    (root / "run" / "report.html").unlink()  # resume cases compare files; the report is rewritten on every run
    return root / "run"


def _garbage(path: Path, start: int, length: int) -> None:
    data = bytearray(path.read_bytes())
    data[start : start + length] = bytes((i * 37 + 11) % 256 for i in range(length))
    path.write_bytes(bytes(data))


def _config(run: Path, change) -> None:
    cfg = json.loads((run / "config.json").read_text())
    change(cfg)
    (run / "config.json").write_text(json.dumps(cfg))


def _hostile_actions(run: Path) -> None:
    """The run's --actions file, replaced since by one the sandbox refuses."""
    (run.parent / "evil.py").write_text(ACTIONS["dunder_escape"])
    _config(run, lambda c: c.update(actions=str(run.parent / "evil.py")))


# id -> (how the run folder is damaged, --graph, expected text)
RESUME_CASES = {
    "garbage_database": (
        lambda r: (r / "checkpoints.sqlite").write_bytes(bytes(range(256)) * 64),
        "act",
        "is not a readable checkpoint database (file is not a database)",
    ),
    "garbage_database_header": (
        lambda r: _garbage(r / "checkpoints.sqlite", 0, 100),
        "act",
        "is not a readable checkpoint database",
    ),
    "garbage_database_pages": (
        lambda r: [
            _garbage(r / "checkpoints.sqlite", off, 600)
            for off in range(4096, (r / "checkpoints.sqlite").stat().st_size, 8192)
        ],
        "act",
        "is not a readable checkpoint database (database disk image is malformed)",
    ),
    "truncated_database": (
        lambda r: (r / "checkpoints.sqlite").write_bytes((r / "checkpoints.sqlite").read_bytes()[:20000]),
        "act",
        "is not a readable checkpoint database",
    ),
    "text_as_database": (
        lambda r: (r / "checkpoints.sqlite").write_text("not a database\n"),
        "act",
        "is not a readable checkpoint database",
    ),
    "no_database": (lambda r: (r / "checkpoints.sqlite").unlink(), "act", "has no checkpoints to resume from"),
    "torn_config": (
        lambda r: (r / "config.json").write_text((r / "config.json").read_text()[:200]),
        "act",
        "config.json is unreadable (JSONDecodeError",
    ),
    "config_not_an_object": (
        lambda r: (r / "config.json").write_text("[1, 2, 3]"),
        "act",
        "is not the config of a run of this program",
    ),
    "config_missing_keys": (
        lambda r: (r / "config.json").write_text('{"graph": "act", "models": {}}'),
        "act",
        "lacks env, prompts, grammar, instances",
    ),
    "config_of_another_graph": (
        lambda r: _config(r, lambda c: c.update(graph="dance")),
        "act",
        "is not the config of a run of this program",
    ),
    "wrong_graph": (lambda r: None, "learn", "is a run of --graph act; resume it with --graph act"),
    "instance_file_gone": (
        lambda r: Path(json.loads((r / "config.json").read_text())["instances"][1]).rename(r.parent / "moved.pddl"),
        "act",
        "does not exist",
    ),
    "actions_now_hostile": (lambda r: _hostile_actions(r), "act", "the sandbox refuses function 'carry'"),
    "prompt_file_gone": (
        lambda r: _config(r, lambda c: c["prompts"]["overrides"].update(act=str(r.parent / "gone.md"))),
        "act",
        "cannot read prompt file",
    ),
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_bad_resume_is_one_line_and_leaves_the_run_folder_unchanged(case, finished_act_run, stub, tmp_path):
    damage, graph, expected = RESUME_CASES[case]
    work = tmp_path / "work"
    work.mkdir()
    for p in finished_act_run.parent.glob("t*.pddl"):  # the run's instance files, beside the copy
        shutil.copy(p, work / p.name)
    run_dir = work / "run"
    shutil.copytree(finished_act_run, run_dir)
    _config(run_dir, lambda c: c.update(instances=[str(work / Path(i).name) for i in c["instances"]]))
    (run_dir / "episodes.jsonl").write_text(
        (run_dir / "episodes.jsonl").read_text().splitlines()[0] + "\n"
    )  # one to go
    damage(run_dir)
    before = snapshot(run_dir)
    requests = len(stub.requests)
    out = run_cli("--graph", graph, "--resume", str(run_dir))
    assert_one_clear_line(out, expected)
    assert snapshot(run_dir) == before, "a refused resume changed the run folder"
    assert len(stub.requests) == requests


@pytest.mark.parametrize("folder", ["not_a_run", "empty_dir", "a_file", "missing"])
def test_resume_on_a_folder_that_is_not_a_run(folder, corpus):
    path = "/nonexistent/run" if folder == "missing" else corpus[folder]
    before = snapshot(Path(path)) if Path(path).is_dir() else None
    out = run_cli("--graph", "learn", "--resume", path)
    assert_one_clear_line(out, "is not a run folder (no config.json)")
    if before is not None:
        assert snapshot(Path(path)) == before


def test_resume_of_a_learn_run_with_records_but_no_checkpoint(tmp_path):
    """A learn run whose database has the tables but no row, yet events on disk: starting it over would
    redo finished work, so it is refused. (Killed in its start-up, with no records, it resumes from the
    beginning: tests/e2e/test_chaos.py.)"""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from learnact.cli.flags import build_parser
    from learnact.cli.resolve import resolve_settings
    from learnact.cli.runs import RunDir

    argv = [
        "--graph",
        "learn",
        "--instance",
        "gen:seed=1,balls=1",
        "--model",
        "stub",
        "--base-url",
        "http://127.0.0.1:9/v1",
    ]
    run_dir = tmp_path / "run"
    RunDir(run_dir).create(resolve_settings(build_parser().parse_args(argv)))
    conn = sqlite3.connect(run_dir / "checkpoints.sqlite")
    SqliteSaver(conn).setup()
    conn.close()
    (run_dir / "events.jsonl").write_text('{"event": "candidate_start", "candidate_id": "r0s0", "round": 0}\n')
    before = snapshot(run_dir)
    out = run_cli("--graph", "learn", "--resume", str(run_dir))
    assert_one_clear_line(out, "has records but no checkpoint to resume from; start it again in a new folder")
    assert snapshot(run_dir) == before


def test_resume_over_torn_jsonl_lines_keeps_every_complete_record(finished_act_run, stub, tmp_path):
    """A kill in the middle of a write leaves half a line: the resume skips the fragment (no error:
    any kill -9 may leave one) and records the episode whose line was torn from its checkpoint, on a
    line of its own, without playing it again (it was finished). Every complete record stays byte for byte.
    Seen before the fix: the finished episode was replayed from its final state and recorded as a
    failure after 30 steps."""
    run_dir = tmp_path / "run"
    shutil.copytree(finished_act_run, run_dir)
    first, second = (run_dir / "episodes.jsonl").read_text().splitlines()
    kept = first + "\n"
    (run_dir / "episodes.jsonl").write_text(kept + second[: len(second) // 2])  # the second record, torn
    events = (run_dir / "events.jsonl").read_text()
    (run_dir / "events.jsonl").write_text(events + '{"event": "step", "episode_id": "x", "act')  # a torn event
    requests = len(stub.requests)
    out = run_cli("--graph", "act", "--resume", str(run_dir))
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    lines = (run_dir / "episodes.jsonl").read_text().splitlines()
    assert lines[:2] == [first, second[: len(second) // 2]], "a complete record changed"
    redone = [json.loads(line) for line in lines[2:]]  # json.loads fails if the new record was glued to the fragment
    original = json.loads(second)
    assert [r["episode_id"] for r in redone] == [original["episode_id"]]
    assert (redone[0]["success"], redone[0]["steps"], redone[0]["trajectory"]) == (True, 3, original["trajectory"])
    assert len(stub.requests) == requests, "the finished episode was played again"
    assert (run_dir / "events.jsonl").read_text().startswith(events)


# ------------------------------------------------------------------ report and prompts subcommands

REPORT_CASES = [
    ("empty_folder", ["report", "{empty_dir}"], "does not look like a run folder"),
    ("folder_that_is_not_a_run", ["report", "{not_a_run}"], "does not look like a run folder"),
    ("missing_folder", ["report", "/nonexistent/run"], "is not a folder"),
    ("a_file", ["report", "{a_file}"], "is not a folder"),
    ("no_argument", ["report"], "the following arguments are required: run_dir"),
    ("unknown_flag", ["report", "{empty_dir}", "--bogus"], "unrecognized arguments: --bogus"),
    (
        "output_in_missing_folder",
        ["report", "{run_without_library}", "-o", "/nonexistent/dir/r.html"],
        "folder /nonexistent/dir does not exist",
    ),
    ("prompts_unknown_node", ["prompts", "show", "dance"], "unknown prompt node 'dance'"),
    ("prompts_unknown_action", ["prompts", "dance"], "invalid choice: 'dance'"),
]


@pytest.mark.parametrize("argv,expected", [pytest.param(a, e, id=i) for i, a, e in REPORT_CASES])
def test_bad_report_and_prompts_commands_are_one_line(argv, expected, corpus):
    root = Path(corpus["root"])
    before = snapshot(root)
    out = run_cli(*(a.format(**corpus) for a in argv))
    assert_one_clear_line(out, expected)
    assert snapshot(root) == before
