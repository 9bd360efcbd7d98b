"""Prompt templates that users can swap without touching code.

Each node has one template file ``templates/<node>.md`` with a system part and a user part::

    === system ===
    You are ...  {{instruction}}
    === user ===
    Goal: {{goal}}

Placeholders are ``{{name}}`` (double braces, so code and JSON in a prompt need no escaping).
A user replaces a template with ``--prompts DIR`` (any ``DIR/<node>.md`` replaces the built-in one)
or ``--prompt NODE=FILE``. Every template is validated before any LLM call: a placeholder the node
does not provide, or a required one that is missing, is a :class:`PromptError`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from environments.pddl.derived import folder_material
from environments.pddl.folder import is_folder_name
from environments.registry import is_registered_name, load_spec

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# The paper's prompt set (``--prompt-set paper``): templates standing for the reference's prompts; a node without one
# here keeps its template from TEMPLATE_DIR.
PAPER_TEMPLATE_DIR = Path(__file__).resolve().parent / "paper" / "templates"
PROMPT_SETS = ("default", "paper")
DOMAIN_DIR = Path(__file__).resolve().parent / "domains"
EXAMPLE_DIR = Path(__file__).resolve().parent / "examples"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SECTION = re.compile(r"^=== (system|user) ===[ \t]*$", re.MULTILINE)

# node -> (required placeholders, optional placeholders). Nodes render with exactly these names.
NODE_PLACEHOLDERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "act": (
        frozenset({"goal", "history"}),
        frozenset({"instruction", "actions", "notes", "examples", "lessons", "format", "system"}),
    ),
    "react": (
        frozenset({"goal", "history"}),
        frozenset({"instruction", "actions", "notes", "examples", "lessons", "format", "system"}),
    ),
    "act_compact": (frozenset({"turn"}), frozenset({"instruction", "actions", "notes", "lessons", "format"})),
    "react_compact": (frozenset({"turn"}), frozenset({"instruction", "actions", "notes", "lessons", "format"})),
    "create_actions": (
        frozenset({"instruction", "example"}),
        frozenset({"primitives", "task", "learned_example", "queries", "action_example"}),
    ),
    "fix_actions": (frozenset({"error"}), frozenset({"code", "instruction", "primitives", "attempts", "queries"})),
    "describe_action": (
        frozenset({"name", "function"}),
        frozenset({"instruction", "example", "description_example", "task"}),
    ),
    "demonstrate": (
        frozenset({"example"}),
        frozenset({"instruction", "task", "actions", "code", "demonstration_example", "start"}),
    ),
    "revise_actions": (
        frozenset({"actions", "failure"}),
        frozenset(
            {
                "instruction",
                "primitives",
                "notes",
                "task",
                "revision_format",
                "queries",
                "example",
                "goal",
                "action_example",
                "revision_cases",
                "name",
                "error",
                "trace",
            }
        ),
    ),
    "reflect": (frozenset({"trajectory"}), frozenset({"instruction", "lessons", "goal", "reflexion_example"})),
    "code_as_policy": (
        frozenset({"goal", "observation"}),
        frozenset({"instruction", "primitives", "example", "system"}),
    ),
}


class PromptError(ValueError):
    """A template that cannot be used: unknown node, bad placeholder, missing section or file."""


@dataclass(frozen=True)
class Template:
    node: str
    system: str
    user: str
    source: str  # path it was read from

    @property
    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.system)) | set(PLACEHOLDER.findall(self.user))

    @property
    def sha256(self) -> str:
        return hashlib.sha256((self.system + "\0" + self.user).encode()).hexdigest()[:16]

    def render(self, **values: str) -> list[tuple[str, str]]:
        """Messages ``[("system", ...), ("user", ...)]`` with every placeholder filled."""
        missing = self.placeholders - values.keys()
        if missing:
            raise PromptError(f"template {self.node!r} needs values for: {', '.join(sorted(missing))}")

        def fill(text: str) -> str:
            return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text).strip()

        messages = []
        if self.system.strip():
            messages.append(("system", fill(self.system)))
        messages.append(("user", fill(self.user)))
        return messages


def parse_template(node: str, text: str, source: str = "<string>") -> Template:
    parts = SECTION.split(text)
    sections: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        if name in sections:
            raise PromptError(f"{source}: section '=== {name} ===' appears twice")
        sections[name] = body
    if "user" not in sections:
        raise PromptError(f"{source}: a template needs a '=== user ===' section (and optionally '=== system ===')")
    template = Template(node, sections.get("system", ""), sections["user"], source)
    validate(template)
    return template


def validate(template: Template) -> None:
    if template.node not in NODE_PLACEHOLDERS:
        raise PromptError(f"unknown prompt node {template.node!r}; known: {', '.join(sorted(NODE_PLACEHOLDERS))}")
    required, optional = NODE_PLACEHOLDERS[template.node]
    used = template.placeholders
    unknown = used - required - optional
    if unknown:
        raise PromptError(
            f"{template.source}: unknown placeholder(s) {', '.join('{{' + u + '}}' for u in sorted(unknown))} "
            f"for node {template.node!r}; allowed: {', '.join(sorted(required | optional))}"
        )
    missing = required - used
    if missing:
        raise PromptError(
            f"{template.source}: node {template.node!r} template must use {', '.join('{{' + m + '}}' for m in sorted(missing))}"
        )


def _read(node: str, path: Path) -> Template:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PromptError(f"prompt file {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    return parse_template(node, text, str(path))


@dataclass
class PromptSet:
    """The templates of every node, with user overrides applied and validated up front."""

    prompts_dir: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # node -> file
    prompt_set: str = "default"  # "paper": prompts/paper/templates first (the reference's prompts)

    def __post_init__(self) -> None:
        if self.prompt_set not in PROMPT_SETS:
            raise PromptError(f"unknown prompt set {self.prompt_set!r}; known: {', '.join(PROMPT_SETS)}")
        self._templates: dict[str, Template] = {}
        for node in NODE_PLACEHOLDERS:
            paper = PAPER_TEMPLATE_DIR / f"{node}.md"
            self._templates[node] = _read(
                node, paper if self.prompt_set == "paper" and paper.is_file() else TEMPLATE_DIR / f"{node}.md"
            )
        if self.prompts_dir:
            folder = Path(self.prompts_dir)
            if not folder.is_dir():
                raise PromptError(f"--prompts folder {folder} does not exist")
            for path in sorted(folder.glob("*.md")):
                if path.stem not in NODE_PLACEHOLDERS:
                    raise PromptError(
                        f"{path}: no node named {path.stem!r}; template files are named after nodes: "
                        + ", ".join(sorted(NODE_PLACEHOLDERS))
                    )
                self._templates[path.stem] = _read(path.stem, path)
        for node, file in self.overrides.items():
            if node not in NODE_PLACEHOLDERS:
                raise PromptError(f"--prompt {node}=...: unknown node; known: {', '.join(sorted(NODE_PLACEHOLDERS))}")
            self._templates[node] = _read(node, Path(file))

    def get(self, node: str) -> Template:
        try:
            return self._templates[node]
        except KeyError:
            raise PromptError(f"unknown prompt node {node!r}") from None

    def render(self, node: str, **values: str) -> list[tuple[str, str]]:
        return self.get(node).render(**values)

    def fingerprint(self) -> dict[str, dict[str, str]]:
        """Per node: where the template came from and its hash (recorded with every run)."""
        return {n: {"source": t.source, "sha256": t.sha256} for n, t in self._templates.items()}


def parse_override(spec: str) -> tuple[str, str]:
    """``NODE=FILE`` -> (node, file)."""
    node, sep, file = spec.partition("=")
    if not sep or not node or not file:
        raise PromptError(f"--prompt expects NODE=FILE, got {spec!r}")
    return node.strip(), file.strip()


@dataclass(frozen=True)
class DomainMaterial:
    """What we wrote about one task type: the domain instruction and one worked example episode."""

    instruction: str
    example: str


def _domain_paths(env_name: str) -> tuple[str, str]:
    family, _, task = env_name.partition("/")
    if family == "alfworld":
        return "alfworld/instruction.md", f"alfworld/examples/{task}.md"
    return f"{task}/instruction.md", f"{task}/example.md"


QUERIES_BLOCK = re.compile(r"^<!-- state queries -->\n(.*?)^<!-- end state queries -->\n", re.MULTILINE | re.DOTALL)


def load_learned_example(prompts_dir: str | None = None, queries: bool = True) -> str:
    """The in-context example of a good learned action set (``{{learned_example}}`` of create_actions).

    It comes from a made-up domain that no task type uses, so nothing of a learned domain leaks
    into it; ``prompts_dir/examples/learned_actions.md`` replaces it. The parts between
    ``<!-- state queries -->`` and ``<!-- end state queries -->`` (actions that read the state with
    find()) are kept only with ``queries`` (an environment with a symbolic state, setting ``state_queries``).
    """
    candidates = [EXAMPLE_DIR / "learned_actions.md"]
    if prompts_dir:
        candidates.insert(0, Path(prompts_dir) / "examples" / "learned_actions.md")
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise PromptError(f"no learned-actions example (looked in {', '.join(map(str, candidates))})")
    text = path.read_text(encoding="utf-8")
    return QUERIES_BLOCK.sub(r"\1" if queries else "", text).strip()


# What a refused action tells the agent under named feedback; under generic feedback (the paper's) the
# instruction must not promise it.
NAMED_FEEDBACK = re.compile(
    r"; the observation then says why \(unknown action,\s+wrong number of arguments, unknown object, or which"
    r"\s+precondition does not hold\)"
)
GENERIC_FEEDBACK = "; the observation then only says that it is not valid"


def load_domain_material(env_name: str, prompts_dir: str | None = None, feedback: str = "named") -> DomainMaterial:
    """Instruction and example for ``env_name``; ``prompts_dir/domains/...`` overrides ours. Under ``generic``
    feedback the instruction does not promise to say which precondition failed."""
    material = _domain_material(env_name, prompts_dir)
    if feedback == "generic":
        return DomainMaterial(NAMED_FEEDBACK.sub(GENERIC_FEEDBACK, material.instruction), material.example)
    return material


def _domain_material(env_name: str, prompts_dir: str | None = None) -> DomainMaterial:
    """A domain folder (``pddl:PATH``) has its own: ``PATH/instruction.md`` and ``PATH/example.md``, else derived
    from its PDDL (environments/pddl/derived.py), never another domain's; a registered text environment brings
    its own (environments/registry.py)."""
    if is_folder_name(env_name):
        try:
            material = folder_material(env_name)
        except (ValueError, OSError) as exc:
            raise PromptError(f"no prompt material for {env_name}: {exc}") from None
        return DomainMaterial(material.instruction, material.example)
    if is_registered_name(env_name):
        try:
            spec = load_spec(env_name)
        except ValueError as exc:
            raise PromptError(f"no prompt material for {env_name}: {exc}") from None
        return DomainMaterial(spec.instruction.strip(), spec.example.strip())
    texts = []
    for rel in _domain_paths(env_name):
        candidates = [DOMAIN_DIR / rel]
        if prompts_dir:
            candidates.insert(0, Path(prompts_dir) / "domains" / rel)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise PromptError(
                f"no prompt material {rel!r} for {env_name} (looked in {', '.join(map(str, candidates))})"
            )
        texts.append(path.read_text(encoding="utf-8").strip())
    return DomainMaterial(*texts)
