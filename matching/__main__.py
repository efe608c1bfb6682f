"""Command line: `python -m matching solve|rank|synth|bench`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matching.scenario import ScenarioError, load_scenario


def _write(doc: dict, output: str | None) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@contextmanager
def _native_output_to_stderr() -> Iterator[None]:
    """Send what compiled libraries print straight to file descriptor 1 to stderr instead, so stdout
    holds the JSON document only: HiGHS prints its banner there when the first solver object is made."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _load(path: str):
    scenario = load_scenario(path)
    for note in scenario.notes:
        print(note, file=sys.stderr)
    return scenario


def _solve(args: argparse.Namespace) -> None:
    from matching.allocate import allocate, to_result

    scenario = _load(args.scenario)
    with _native_output_to_stderr():
        sol = allocate(
            scenario, time_limit_s=args.time_limit, solver=args.solver, top_k=args.top_k, gap_rel=args.gap
        )
    for note in sol.notes:
        print(note if note.startswith("note:") else f"note: {note}", file=sys.stderr)
    _write(to_result(scenario, sol), args.output)
    if args.rank_output:
        # the ranking from the same process: the texts are not embedded twice (similarity's cache)
        from matching.allocate import rank

        with _native_output_to_stderr():
            ranking = rank(scenario, top=args.rank_top)
        _write(ranking, args.rank_output)


def _rank(args: argparse.Namespace) -> None:
    from matching.allocate import rank

    scenario = _load(args.scenario)
    with _native_output_to_stderr():
        ranking = rank(scenario, top=args.top)
    _write(ranking, args.output)


def _synth(args: argparse.Namespace) -> None:
    from matching.synth import synthesise

    doc = synthesise(schools=args.schools, supporters=args.supporters, requests=args.requests, seed=args.seed)
    _write(doc, args.output)


def _bench(args: argparse.Namespace) -> None:
    from matching.bench import main as bench_main

    bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("solve", help="allocate supporters to requests")
    p.add_argument("scenario")
    p.add_argument("-o", "--output")
    p.add_argument("--time-limit", type=float, default=None, help="seconds (default: rules.time_limit_s)")
    p.add_argument("--solver", choices=["auto", "highs", "cbc"], default="auto")
    p.add_argument("--top-k", type=int, default=None, help="relevant supporters kept per request")
    p.add_argument("--gap", type=float, default=None, help="stop at this relative gap (status feasible)")
    p.add_argument("--rank-output", help="also write the ranking (as `rank` gives it) to this file")
    p.add_argument("--rank-top", type=int, default=5, help="candidates per request in --rank-output")
    p.set_defaults(func=_solve)

    p = sub.add_parser("rank", help="relevance only, no allocation")
    p.add_argument("scenario")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("-o", "--output")
    p.set_defaults(func=_rank)

    p = sub.add_parser("synth", help="seeded synthetic scenario")
    p.add_argument("--schools", type=int, default=50)
    p.add_argument("--supporters", type=int, default=500)
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("-o", "--output")
    p.set_defaults(func=_synth)

    p = sub.add_parser("bench", help="this allocator vs greedy vs one plain PuLP model, and an LP bound")
    p.add_argument("--size", choices=["trust", "region", "national"], default="trust")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--baseline-limit", type=float, default=60.0)
    p.add_argument("--time-limit", type=float, default=None)
    p.add_argument("--solver", choices=["auto", "highs", "cbc"], default="auto")
    p.add_argument("--skip", default="", help="comma-separated methods to skip: allocator,greedy,plain,lp")
    p.add_argument(
        "--lp-limit", type=float, default=240.0, help="seconds for the certified LP bound (the lp method)"
    )
    p.add_argument("--scenario", help="benchmark this file instead of a synthetic one")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one method in this process
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--gap", type=float, default=None, help="let the allocator stop at this relative gap")
    p.set_defaults(func=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
