"""Task format: `TaskSpec` and `Action` (pydantic), loading and validation.

A task is a folder holding `task.json` plus the files it names (all paths are
relative to the folder):

    tasks/<family>/<id>/
        task.json          TaskSpec
        video.mp4          the reference video (any h264/VP9 mp4/webm)
        reference.html     optional reference page
        assets/            optional static files the page may load by relative path
        checkpoints/       optional step_<index>.png: reference screenshot after action <index>

`Action` is a superset of IWR-Bench's action schema: IWR-Bench's own field names
(`Click`/`Type`/..., `parameters{description,text,key,direction,...}`,
`visual_evaluation_flag`, `logical_assertion`, `checkpoint_screenshot`) are accepted
and normalised on load.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from judge.errors import InputError
from judge.files import atomic_write

ACTION_TYPES = ("click", "dblclick", "type", "press", "scroll", "hover", "drag", "select", "wait")
ActionType = Literal["click", "dblclick", "type", "press", "scroll", "hover", "drag", "select", "wait"]
_ACTION_ALIASES = {"double_click": "dblclick", "doubleclick": "dblclick", "double-click": "dblclick"}


class TaskError(InputError):
    """A problem with a task on disk. `path` is the file, `field` the dotted field name."""

    def __init__(self, path: Path | str, field: str, message: str):
        self.path, self.field, self.message = Path(path), field, message
        super().__init__(f"{path}: {field}: {message}" if field else f"{path}: {message}")


class Viewport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: int = Field(1024, ge=64, le=7680)
    height: int = Field(768, ge=64, le=4320)

    @classmethod
    def parse(cls, value: Any) -> "Viewport":
        """Accept `"1024x768"`, `[1024, 768]` or `{"width":..,"height":..}`."""
        if isinstance(value, Viewport):
            return value
        if isinstance(value, str):
            m = re.fullmatch(r"\s*(\d+)\s*[xX×*]\s*(\d+)\s*", value)
            if not m:
                raise ValueError(f"expected WIDTHxHEIGHT such as 1024x768, got {value!r}")
            return cls(width=int(m.group(1)), height=int(m.group(2)))
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return cls(width=int(value[0]), height=int(value[1]))
        return cls.model_validate(value)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


class Target(BaseModel):
    """Hints that locate an action's element. All optional; the description is always there."""

    model_config = ConfigDict(extra="forbid")
    role: str | None = None            # ARIA role, e.g. "button", "tab", "textbox"
    name: str | None = None            # accessible name
    text: str | None = None            # visible text
    selector: str | None = None        # CSS selector in the *reference* page
    bbox: tuple[float, float, float, float] | None = None  # x, y, w, h in reference-video pixels

    def is_empty(self) -> bool:
        return not any([self.role, self.name, self.text, self.selector, self.bbox])


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: ActionType
    description: str = Field(min_length=1)
    text: str | None = None            # type: the text; select: the option label/value
    key: str | None = None             # press: a Playwright key name ("Enter", "Tab", "ArrowDown")
    direction: Literal["up", "down", "left", "right"] | None = None  # scroll
    amount: float | None = None        # scroll: pixels (>1) or fraction of the container (<=1); wait: seconds
    target: Target = Field(default_factory=Target)
    to_target: Target | None = None    # drag: where to drop
    timestamp_s: float | None = Field(None, ge=0)  # when the action happens in the reference video
    assertion: str | None = None       # natural language; quoted strings are checked literally
    visual_check: bool = False         # this step's checkpoint counts toward VFS
    checkpoint: str | None = None      # path (relative to the task) of the reference screenshot after this action

    @field_validator("type", mode="before")
    @classmethod
    def _lower_type(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().lower()
            return _ACTION_ALIASES.get(v, v)
        return v

    @model_validator(mode="before")
    @classmethod
    def _from_iwr(cls, data: Any) -> Any:
        """Accept IWR-Bench's action schema (`parameters{...}`, `logical_assertion`, ...)."""
        if not isinstance(data, dict) or "parameters" not in data:
            return data
        data = dict(data)
        params = data.pop("parameters") or {}
        out: dict[str, Any] = {k: v for k, v in data.items() if k in cls.model_fields}
        out.setdefault("description", params.get("description") or "")
        for key in ("text", "key", "direction"):
            if params.get(key) not in (None, ""):
                out.setdefault(key, params[key] if key != "direction" else str(params[key]).lower())
        if params.get("scroll_page") not in (None, ""):
            out.setdefault("amount", float(params["scroll_page"]))
        if "visual_evaluation_flag" in data:
            out.setdefault("visual_check", bool(data["visual_evaluation_flag"]))
        if data.get("logical_assertion"):
            out.setdefault("assertion", data["logical_assertion"])
        if data.get("checkpoint_screenshot"):
            out.setdefault("checkpoint", data["checkpoint_screenshot"])
        return out

    @model_validator(mode="after")
    def _required_fields(self) -> "Action":
        if self.type == "type" and self.text is None:
            raise ValueError("a 'type' action needs 'text'")
        if self.type == "press" and not self.key:
            raise ValueError("a 'press' action needs 'key'")
        if self.type == "select" and self.text is None:
            raise ValueError("a 'select' action needs 'text' (the option to choose)")
        if self.type == "drag" and self.to_target is None:
            raise ValueError("a 'drag' action needs 'to_target'")
        return self


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    family: Literal["animation", "interactive"]
    viewport: Viewport = Field(default_factory=Viewport)
    fps: float = Field(30.0, gt=0, le=240)
    duration_s: float = Field(gt=0, le=600)
    video: str = "video.mp4"
    reference_page: str | None = None
    assets_dir: str | None = None
    actions: list[Action] = Field(default_factory=list)
    prompt: str | None = None          # overrides the family's generation prompt
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("viewport", mode="before")
    @classmethod
    def _viewport(cls, v: Any) -> Any:
        return Viewport.parse(v)

    @model_validator(mode="after")
    def _family_rules(self) -> "TaskSpec":
        if self.family == "interactive" and not self.actions:
            raise ValueError("an interactive task needs at least one action")
        if self.family == "animation" and self.actions:
            raise ValueError("an animation task has no actions")
        return self

    @property
    def n_frames(self) -> int:
        return max(1, int(round(self.duration_s * self.fps)))


class Task(BaseModel):
    """A loaded task: the spec plus the folder it lives in (paths resolved against it)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    spec: TaskSpec
    root: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def video_path(self) -> Path:
        return self.root / self.spec.video

    @property
    def reference_page_path(self) -> Path | None:
        return self.root / self.spec.reference_page if self.spec.reference_page else None

    @property
    def assets_path(self) -> Path | None:
        return self.root / self.spec.assets_dir if self.spec.assets_dir else None

    def checkpoint_path(self, index: int) -> Path | None:
        """The reference screenshot after action `index` (0-based), keyed by action index."""
        action = self.spec.actions[index]
        return self.root / action.checkpoint if action.checkpoint else None

    @property
    def initial_checkpoint_path(self) -> Path | None:
        p = self.root / "checkpoints" / "initial.png"
        return p if p.exists() else None


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_spec(data: Any, path: Path | str) -> TaskSpec:
    """Validate a task.json payload; raise `TaskError` naming the first bad field."""
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = _format_loc(tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p)))
        raise TaskError(path, field, err["msg"]) from None


def load_task(folder: Path | str) -> Task:
    """Load `folder/task.json`. Raises `TaskError` (file + field) on any schema problem."""
    folder = Path(folder)
    path = folder / "task.json"
    if not path.is_file():
        raise TaskError(path, "", "no task.json in this folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TaskError(path, "", f"not valid JSON ({e})") from None
    return Task(spec=parse_spec(data, path), root=folder)


def find_task_dirs(paths: list[Path | str]) -> list[Path]:
    """Every folder holding a task.json under the given paths (recursively), sorted."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_file() and p.name == "task.json":
            found.add(p.parent)
        elif (p / "task.json").is_file():
            found.add(p)
        elif p.is_dir():
            found.update(q.parent for q in p.rglob("task.json") if ".git" not in q.parts)
    return sorted(found)


def descriptions_only(task: "Task") -> "Task":
    """A copy of an interactive task as IWR-Bench gives tasks: each action's description (and
    assertion) only -- no target hints, no bbox, no timestamps."""
    t = task.model_copy(deep=True)
    t.spec.actions = [a.model_copy(update={"target": Target(), "to_target": Target() if a.to_target else None,
                                           "timestamp_s": None}) for a in t.spec.actions]
    return t


def load_tasks(paths: list[Path | str]) -> list[Task]:
    dirs = find_task_dirs(paths)
    tasks = [load_task(d) for d in dirs]
    seen: dict[str, Path] = {}
    for t in tasks:
        if t.id in seen:
            raise TaskError(t.root / "task.json", "id", f"duplicate task id {t.id!r} (also in {seen[t.id]})")
        seen[t.id] = t.root
    return tasks


def save_spec(spec: TaskSpec, folder: Path | str) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write(folder / "task.json", spec.model_dump_json(indent=2, exclude_none=True, exclude_defaults=False)
                        + "\n", fsync=False)
