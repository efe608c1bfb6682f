"""Load and validate a school-support-scenario/1 document into frozen dataclasses, with clear errors."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

FORMAT = "school-support-scenario/1"
PHASES = ("nursery", "primary", "secondary", "special", "all-through", "post-16")


class ScenarioError(ValueError):
    """The scenario is invalid, or a run cannot honour it (e.g. a pin breaks a hard rule)."""


@dataclass(frozen=True)
class School:
    id: str
    need: int
    name: str = ""
    phase: str | None = None
    budget: float | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Supporter:
    id: str
    expertise: str
    capacity_days: float
    name: str = ""
    school_id: str | None = None
    kind: str | None = None
    phases: tuple[str, ...] = ()
    day_rate: float = 0.0

    @property
    def external(self) -> bool:
        return self.kind == "external"


@dataclass(frozen=True)
class Request:
    id: str
    school_id: str
    text: str
    days: float
    phase: str | None = None
    area: str = ""


@dataclass(frozen=True)
class Pair:
    request_id: str
    supporter_id: str


@dataclass(frozen=True)
class Rules:
    max_travel_km: float | None = None
    min_score: float = 0.0
    need_weights: tuple[tuple[int, float], ...] = ()
    internal_first: bool = True
    time_limit_s: float = 60.0

    def need_weight(self, need: int) -> float:
        for level, weight in self.need_weights:
            if level == need:
                return weight
        # The contract's default, also used for a level the trust's table leaves out.
        return float(2 ** (need - 1))


@dataclass(frozen=True)
class Scenario:
    schools: tuple[School, ...]
    supporters: tuple[Supporter, ...]
    requests: tuple[Request, ...]
    pins: tuple[Pair, ...] = ()
    bans: tuple[Pair, ...] = ()
    # None means "use text similarity"; a tuple (even empty) replaces it entirely.
    scores: tuple[tuple[str, str, float], ...] | None = None
    rules: Rules = field(default_factory=Rules)
    notes: tuple[str, ...] = ()

    def school(self, school_id: str) -> School:
        return self._schools_by_id()[school_id]

    def _schools_by_id(self) -> dict[str, School]:
        cache = self.__dict__.get("_school_index")
        if cache is None:
            cache = {s.id: s for s in self.schools}
            object.__setattr__(self, "_school_index", cache)
        return cache


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files("matching").joinpath("schema.json").read_text(encoding="utf-8"))


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _path(error.absolute_path)
    v, arg = error.validator, error.validator_value
    if v == "required":
        missing = [name for name in arg if isinstance(error.instance, dict) and name not in error.instance]
        return f"{where}: missing required field '{missing[0] if missing else arg[0]}'"
    messages = {
        "exclusiveMinimum": f"must be greater than {arg}",
        "minimum": f"must be at least {arg}",
        "maximum": f"must be at most {arg}",
        "exclusiveMaximum": f"must be less than {arg}",
        "minLength": "must not be empty",
        "const": f"must be '{arg}'",
        "enum": "must be one of " + ", ".join(str(a) for a in arg) if isinstance(arg, list) else "",
        "type": f"must be of type {' or '.join(arg) if isinstance(arg, list) else arg}",
    }
    text = messages.get(v) or error.message
    return f"{where}: {text} (got {json.dumps(error.instance)[:60]})"


def _unknown_fields(doc: Mapping[str, Any]) -> list[str]:
    props = schema()["properties"]
    counts: Counter[str] = Counter()
    for key in doc:
        if key not in props:
            counts[key] += 1
    nested = {
        "schools": props["schools"]["items"]["properties"],
        "supporters": props["supporters"]["items"]["properties"],
        "requests": props["requests"]["items"]["properties"],
        "scores": props["scores"]["items"]["properties"],
        "pins": schema()["$defs"]["pair"]["properties"],
        "bans": schema()["$defs"]["pair"]["properties"],
    }
    for section, known in nested.items():
        for item in doc.get(section) or ():
            for key in item:
                if key not in known:
                    counts[f"{section}[].{key}"] += 1
    for key in doc.get("rules") or {}:
        if key not in props["rules"]["properties"]:
            counts[f"rules.{key}"] += 1
    return [
        f"note: ignoring unknown field {name}" + (f" ({n} times)" if n > 1 else "")
        for name, n in sorted(counts.items())
    ]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_scenario(doc: Any) -> Scenario:
    """Validate a decoded JSON document (schema, then references) and build the frozen scenario."""
    if not isinstance(doc, Mapping):
        raise ScenarioError("(document): must be a JSON object")
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        raise ScenarioError(_describe(error))

    schools = tuple(
        School(
            id=s["id"],
            need=int(s["need"]),
            name=s.get("name", ""),
            phase=s.get("phase"),
            budget=_num(s.get("budget")),
            lat=_num(s.get("lat")),
            lon=_num(s.get("lon")),
        )
        for s in doc["schools"]
    )
    supporters = tuple(
        Supporter(
            id=p["id"],
            expertise=p["expertise"],
            capacity_days=float(p["capacity_days"]),
            name=p.get("name", ""),
            school_id=p.get("school_id"),
            kind=p.get("kind"),
            phases=tuple(p.get("phases") or ()),
            day_rate=float(p.get("day_rate", 0.0)),
        )
        for p in doc["supporters"]
    )
    requests = tuple(
        Request(
            id=r["id"],
            school_id=r["school_id"],
            text=r["text"],
            days=float(r["days"]),
            phase=r.get("phase"),
            area=r.get("area", ""),
        )
        for r in doc["requests"]
    )
    _check_unique("schools", [s.id for s in schools])
    _check_unique("supporters", [p.id for p in supporters])
    _check_unique("requests", [r.id for r in requests])
    school_ids = {s.id for s in schools}
    for i, p in enumerate(supporters):
        if p.school_id is not None and p.school_id not in school_ids:
            raise ScenarioError(f"supporters[{i}].school_id: unknown school '{p.school_id}'")
    for i, r in enumerate(requests):
        if r.school_id not in school_ids:
            raise ScenarioError(f"requests[{i}].school_id: unknown school '{r.school_id}'")
    for i, s in enumerate(schools):
        if (s.lat is None) != (s.lon is None):
            raise ScenarioError(f"schools[{i}]: give both lat and lon, or neither")

    request_ids = {r.id for r in requests}
    supporter_ids = {p.id for p in supporters}

    def pairs(section: str) -> tuple[Pair, ...]:
        out = []
        for i, item in enumerate(doc.get(section) or ()):
            if item["request_id"] not in request_ids:
                raise ScenarioError(f"{section}[{i}].request_id: unknown request '{item['request_id']}'")
            if item["supporter_id"] not in supporter_ids:
                raise ScenarioError(
                    f"{section}[{i}].supporter_id: unknown supporter '{item['supporter_id']}'"
                )
            out.append(Pair(item["request_id"], item["supporter_id"]))
        return tuple(out)

    pins, bans = pairs("pins"), pairs("bans")
    scores = None
    if "scores" in doc:
        seen: set[tuple[str, str]] = set()
        out = []
        for i, (pair, item) in enumerate(zip(pairs("scores"), doc["scores"], strict=True)):
            key = (pair.request_id, pair.supporter_id)
            if key in seen:
                raise ScenarioError(f"scores[{i}]: pair {key[0]}->{key[1]} is scored twice")
            seen.add(key)
            out.append((key[0], key[1], float(item["score"])))
        scores = tuple(out)

    raw_rules = doc.get("rules") or {}
    weights = []
    for key, value in sorted((raw_rules.get("need_weights") or {}).items()):
        try:
            level = int(key)
        except ValueError:
            raise ScenarioError(f"rules.need_weights.{key}: key must be a need level (an integer)") from None
        weights.append((level, float(value)))
    rules = Rules(
        max_travel_km=_num(raw_rules.get("max_travel_km")),
        min_score=float(raw_rules.get("min_score", 0.0)),
        need_weights=tuple(weights),
        internal_first=bool(raw_rules.get("internal_first", True)),
        time_limit_s=float(raw_rules.get("time_limit_s", 60.0)),
    )
    for r in requests:
        if not math.isfinite(r.days):
            raise ScenarioError(f"requests: days of {r.id} must be finite")
    return Scenario(
        schools=schools,
        supporters=supporters,
        requests=requests,
        pins=pins,
        bans=bans,
        scores=scores,
        rules=rules,
        notes=tuple(_unknown_fields(doc)),
    )


def _check_unique(section: str, ids: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            raise ScenarioError(
                f"{section}[{i}].id: duplicate id '{ident}' (first at {section}[{seen[ident]}])"
            )
        seen[ident] = i


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Read a scenario from a JSON file path, or take an already decoded document."""
    if isinstance(source, Mapping):
        return parse_scenario(source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read ({e.strerror})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScenarioError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    return parse_scenario(doc)
