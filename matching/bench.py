"""Benchmark: this allocator vs a greedy pass vs one plain PuLP model, each in its own process."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

SIZES = {
    "trust": {"schools": 50, "supporters": 500, "requests": 300, "limit": 60.0},
    "region": {"schools": 1000, "supporters": 5000, "requests": 3000, "limit": 27.0},
    "national": {"schools": 20000, "supporters": 50000, "requests": 60000, "limit": 560.0},
}
# Above this many request x supporter cells the checker reuses the allocator's (top-k) relevance.
CHECK_FULL_CELLS = 20_000_000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    import highspy  # noqa: F401 - only for its version

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PuLP {version('pulp')}, highspy {version('highspy')}, {platform.system()} {platform.release()}"
    )


def _peak_mb() -> float:
    """Peak memory of this process plus that of the largest child it waited for (MB).

    A national run solves its LP bound in a child process beside it (`allocate.BackgroundLP`), at the
    same time, so the two peaks are added: an upper bound on what the method held at once.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def run_one(
    method: str,
    scenario_path: str,
    time_limit: float | None,
    solver: str,
    top_k: int | None,
    gap: float | None = None,
) -> dict:
    """Run one method in this process and measure it (called in a child process by `main`)."""
    from matching.allocate import allocate, greedy, to_result
    from matching.checker import check, relevance_from
    from matching.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    started = time.perf_counter()
    info: dict = {}
    if method == "lp":
        from matching.allocate import certified_lp_bound

        bound, n_pairs = certified_lp_bound(scenario, time_limit or 240.0)
        return {
            "method": "lp",
            "status": "bound",
            "wall_s": round(time.perf_counter() - started, 3),
            "peak_mb": round(_peak_mb(), 1),
            "bound": bound,
            "pairs": n_pairs,
        }
    if method == "greedy":
        result = greedy(scenario, top_k=top_k)
    else:
        sol = allocate(
            scenario,
            time_limit_s=time_limit,
            solver=solver,
            top_k=top_k,
            decompose=(method == "allocator"),
            gap_rel=gap if method == "allocator" else None,
        )
        result = to_result(scenario, sol)
        info = {
            "components": sol.components,
            "models": sol.models,
            "pairs": len(sol.pairs),
            "truncated": sol.pairs.truncated,
            # the first few, and what became of the LP solved beside a national run
            "notes": sol.notes[:3] + [n for n in sol.notes[3:] if "LP bound" in n or "LP solved beside" in n],
        }
    wall = time.perf_counter() - started
    peak_mb = _peak_mb()
    cells = len(scenario.requests) * len(scenario.supporters)
    table = None
    if cells > CHECK_FULL_CELLS:
        table = {(a["request_id"], a["supporter_id"]): a["relevance"] for a in result["allocations"]}
        if method != "greedy":
            req_ids = [r.id for r in scenario.requests]
            sup_ids = [p.id for p in scenario.supporters]
            for r, s, v in zip(sol.pairs.req, sol.pairs.sup, sol.pairs.rel, strict=True):
                table[(req_ids[r], sup_ids[s])] = float(v)
    violations = check(scenario, result, relevance_from(scenario, table) if table is not None else None)
    need = {s.id: s.need for s in scenario.schools}
    asked: dict[int, float] = defaultdict(float)
    met: dict[int, float] = defaultdict(float)
    for r in scenario.requests:
        asked[need[r.school_id]] += r.days
    kinds = {p.id: p.kind for p in scenario.supporters}
    school_of = {r.id: r.school_id for r in scenario.requests}
    external_days = 0.0
    for a in result["allocations"]:
        met[need[school_of[a["request_id"]]]] += a["days"]
        if kinds[a["supporter_id"]] == "external":
            external_days += a["days"]
    return {
        "method": method,
        "status": result["status"],
        "wall_s": round(wall, 3),
        "peak_mb": round(peak_mb, 1),
        "objective": result["objective"],
        "bound": result["bound"],
        "gap": result["gap"],
        "timings_s": result["timings_s"],
        "allocated": len(result["allocations"]),
        "cost": round(sum(a["cost"] for a in result["allocations"]), 2),
        "travel_km": round(sum(a["travel_km"] or 0.0 for a in result["allocations"]), 1),
        "met_by_need": {str(k): f"{met[k]:g}/{asked[k]:g}" for k in sorted(asked)},
        "external_days": external_days,
        "violations": len(violations),
        "first_violations": violations[:3],
        **info,
    }


def _child(method: str, path: str, limit: float | None, args) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "matching",
        "bench",
        "--one",
        method,
        "--scenario",
        path,
        "--solver",
        args.solver,
    ]
    if limit is not None:
        cmd += ["--time-limit", str(limit)]
    if args.top_k is not None:
        cmd += ["--top-k", str(args.top_k)]
    if args.gap is not None:
        cmd += ["--gap", str(args.gap)]
    hard_stop = (limit or 600) * 2 + 120
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=hard_stop, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return {"method": method, "status": f"killed after {hard_stop:.0f} s"}
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"method": method, "status": f"failed: {tail}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(args) -> None:
    if args.one:
        print(
            json.dumps(run_one(args.one, args.scenario, args.time_limit, args.solver, args.top_k, args.gap))
        )
        return
    size = SIZES[args.size]
    limit = args.time_limit if args.time_limit is not None else size["limit"]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.scenario:
            path = args.scenario
            label = args.scenario
        else:
            from matching.synth import synthesise

            t0 = time.perf_counter()
            doc = synthesise(
                schools=size["schools"],
                supporters=size["supporters"],
                requests=size["requests"],
                seed=args.seed,
            )
            path = str(Path(tmp) / f"{args.size}.json")
            Path(path).write_text(json.dumps(doc))
            label = (
                f"{args.size}: {size['schools']} schools, {size['supporters']} supporters, "
                f"{size['requests']} requests, seed {args.seed} "
                f"(generated in {time.perf_counter() - t0:.1f} s)"
            )
        print(f"# {label}")
        print(f"# machine: {machine()}")
        print(f"# command: python -m matching {' '.join(sys.argv[1:])}", flush=True)
        rows = []
        methods = (("allocator", limit), ("greedy", None), ("plain", args.baseline_limit), ("lp", args.lp_limit))
        for method, method_limit in methods:
            if method in skip:
                continue
            row = _child(method, path, method_limit, args)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    # Each bound is valid for every answer (the plain model's only when HiGHS is right; see the docs).
    bounds = [r["bound"] for r in rows if r.get("method") != "greedy" and "bound" in r]
    best = min(bounds) if bounds else None
    head = (
        f"{'method':<10} {'status':<9} {'wall s':>8} {'peak MB':>8} {'objective':>12} {'gap':>8} "
        f"{'vs best bound':>13} {'cost':>10} {'ext days':>8} {'broken':>6}  met days by need (met/asked)"
    )
    print(head)
    for r in rows:
        if r.get("method") == "lp" and "bound" in r:
            print(
                f"{'lp bound':<10} {'':<9} {r['wall_s']:>8.2f} {r['peak_mb']:>8.0f} {r['bound']:>12.2f}  "
                f"(the LP over all {r['pairs']:,} eligible pairs, certified from its row prices)"
            )
            continue
        if "objective" not in r:
            print(f"{r['method']:<10} {r['status']}")
            continue
        vs = "" if best in (None, 0) else f"{100 * (best - r['objective']) / best:.3f}%"
        print(
            f"{r['method']:<10} {r['status']:<9} {r['wall_s']:>8.2f} {r['peak_mb']:>8.0f} "
            f"{r['objective']:>12.2f} {100 * r['gap']:>7.3f}% {vs:>13} {r['cost']:>10.0f} "
            f"{r['external_days']:>8g} {r['violations']:>6}  "
            + " ".join(f"{k}:{v}" for k, v in r["met_by_need"].items())
        )
