"""Independent checker: which of the eight hard rules a result breaks (shares no code with the model)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping

from matching.scenario import Scenario

Relevance = Callable[[str, str], float]

_TOL = 1e-6


def _compatible(request_phase: str | None, supporter_phases) -> bool:
    if request_phase is None or not supporter_phases:
        return True
    bridge = {"primary", "secondary"}
    for p in supporter_phases:
        if p == request_phase:
            return True
        if "all-through" in (p, request_phase) and {p, request_phase} - {"all-through"} <= bridge:
            return True
    return False


def _km(a, b) -> float | None:
    if a.lat is None or b is None or b.lat is None:
        return None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def relevance_from(scenario: Scenario, table: Mapping[tuple[str, str], float] | None = None) -> Relevance:
    """Relevance lookup: a given table, the scenario's `scores`, or text similarity computed on demand."""
    if table is not None or scenario.scores is not None:
        given = dict(table) if table is not None else {(r, s): v for r, s, v in scenario.scores}

        def lookup_table(r: str, s: str) -> float:
            return float(given.get((r, s), 0.0))

        # Only listed pairs can score above zero, so rule 8 need look at no other internal.
        scored: dict[str, list[str]] = {}
        for (r, s), v in given.items():
            if v > 0:
                scored.setdefault(r, []).append(s)
        lookup_table.scored = scored  # type: ignore[attr-defined]
        return lookup_table
    from matching import similarity

    # One call over the whole scenario, as the allocator makes below its blocking threshold.
    matrix = similarity.score(
        [r.text for r in scenario.requests], [p.expertise for p in scenario.supporters]
    ).tocsr()
    r_index = {r.id: i for i, r in enumerate(scenario.requests)}
    s_index = {p.id: j for j, p in enumerate(scenario.supporters)}

    def lookup(r: str, s: str) -> float:
        return float(matrix[r_index[r], s_index[s]])

    return lookup


def check(scenario: Scenario, result: Mapping, relevance: Relevance | None = None) -> list[str]:
    """Violated hard rules of `result` (school-support-result/1); empty when it keeps all eight.

    Rule 7 and 8 need relevance: by default the reported relevance of each allocation is checked against
    `scores` (or text similarity), and rule 8 asks the same source about internal supporters left idle.
    """
    rel = relevance or relevance_from(scenario)
    rules = scenario.rules
    schools = {s.id: s for s in scenario.schools}
    supporters = {p.id: p for p in scenario.supporters}
    requests = {r.id: r for r in scenario.requests}
    pins = {(p.request_id, p.supporter_id) for p in scenario.pins}
    bans = {(b.request_id, b.supporter_id) for b in scenario.bans}
    out: list[str] = []
    load: dict[str, float] = defaultdict(float)
    spend: dict[str, float] = defaultdict(float)
    given: dict[str, str] = {}
    for n, alloc in enumerate(result.get("allocations", [])):
        rid, sid = alloc["request_id"], alloc["supporter_id"]
        if rid not in requests or sid not in supporters:
            out.append(f"allocations[{n}]: unknown request or supporter {rid}->{sid}")
            continue
        req, sup = requests[rid], supporters[sid]
        if rid in given:
            out.append(f"request {rid} is allocated twice ({given[rid]} and {sid})")
        given[rid] = sid
        if abs(float(alloc["days"]) - req.days) > _TOL:
            out.append(f"{rid}->{sid}: {alloc['days']} days allocated, the request asks for {req.days:g}")
        load[sid] += req.days
        spend[req.school_id] += req.days * sup.day_rate
        if sup.school_id == req.school_id:
            out.append(f"rule 2: {rid}->{sid}: {sid} works at {req.school_id}, the requesting school")
        if not _compatible(req.phase, sup.phases):
            out.append(f"rule 3: {rid}->{sid}: phase {req.phase} vs {list(sup.phases)}")
        km = _km(schools[req.school_id], schools.get(sup.school_id) if sup.school_id else None)
        if rules.max_travel_km is not None and km is not None and km > rules.max_travel_km + _TOL:
            out.append(f"rule 5: {rid}->{sid}: {km:.1f} km > {rules.max_travel_km:g}")
        if (rid, sid) in bans:
            out.append(f"rule 6: {rid}->{sid} is banned")
        if (rid, sid) not in pins:
            score = rel(rid, sid)
            if score <= 0 or score < rules.min_score - 1e-9:
                out.append(f"rule 7: {rid}->{sid}: relevance {score:.4f} below min_score {rules.min_score:g}")
    for sid, days in sorted(load.items()):
        if days > supporters[sid].capacity_days + _TOL:
            out.append(f"rule 1: {sid} has {days:g} days, capacity {supporters[sid].capacity_days:g}")
    for school_id, cost in sorted(spend.items()):
        budget = schools[school_id].budget
        if budget is not None and cost > budget + _TOL:
            out.append(f"rule 4: {school_id} spends {cost:.2f}, budget {budget:.2f}")
    for rid, sid in sorted(pins):
        if given.get(rid) != sid:
            out.append(f"rule 6: pin {rid}->{sid} is not honoured")
    if rules.internal_first:
        internals = [p for p in scenario.supporters if p.kind != "external"]
        scored = getattr(rel, "scored", None)
        for rid, sid in sorted(given.items()):
            if supporters[sid].kind != "external" or (rid, sid) in pins:
                continue
            req = requests[rid]
            school = schools[req.school_id]
            pool = internals
            if scored is not None:
                pool = [
                    supporters[x] for x in sorted(scored.get(rid, ())) if supporters[x].kind != "external"
                ]
            for i in pool:
                spare = i.capacity_days - load.get(i.id, 0.0)
                if spare < req.days - _TOL or (rid, i.id) in bans or i.school_id == req.school_id:
                    continue
                if not _compatible(req.phase, i.phases):
                    continue
                km = _km(school, schools.get(i.school_id) if i.school_id else None)
                if rules.max_travel_km is not None and km is not None and km > rules.max_travel_km + _TOL:
                    continue
                if school.budget is not None and req.days * i.day_rate > school.budget + _TOL:
                    continue
                score = rel(rid, i.id)
                if score > 0 and score >= rules.min_score:
                    out.append(
                        f"rule 8: {rid} went to external {sid} while internal {i.id} had "
                        f"{spare:g} spare days and relevance {score:.3f}"
                    )
                    break
    return out
