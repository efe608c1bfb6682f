"""The LP bound solved in a child process beside a run too big for it in-process (allocate.BackgroundLP).

Small scenarios are sent down that path by patching the thresholds in this process. The child is a
fresh interpreter (`spawn`), so it sees none of the patches: it solves what it is sent.
"""

import os
import re
import signal
import time
from unittest import mock

import numpy as np

from matching import allocate as allocate_module
from matching import check, load_scenario
from matching.allocate import BackgroundLP, _pairs_and_links, allocate, certified_lp_bound, to_result
from matching.synth import synthesise

BESIDE = re.compile(r"LP bound over every eligible pair, solved beside the run: (-?[0-9.]+)")


def _as_national(**patches):
    """A run that starts the child, and sends every block to the window search (which waits for it)."""
    return mock.patch.multiple(allocate_module, BACKGROUND_LP_MIN_COLUMNS=-1, MIP_MAX_PAIRS=0, **patches)


def _scenario():
    return load_scenario(synthesise(schools=8, supporters=40, requests=30, seed=1))


def test_a_run_too_big_for_its_own_lp_takes_the_lp_solved_beside_it():
    scenario = _scenario()
    exact = allocate(scenario, time_limit_s=60)
    assert exact.status == "optimal"
    optimum = float(exact.pairs.weight[exact.chosen].sum())
    with _as_national():
        sol = allocate(scenario, time_limit_s=60, candidates=4)
    result = to_result(scenario, sol)
    assert check(scenario, result) == []
    beside = [float(m.group(1)) for n in sol.notes if (m := BESIDE.search(n))]
    assert len(beside) == 1, sol.notes
    # The child solved the same LP as the benchmark's certified bound, to its optimum (the simplex at
    # this size), so it reads the same; and the run reports it, since the prices' bound is looser here.
    lp, _ = certified_lp_bound(scenario, 30)
    assert abs(beside[0] - lp) <= 0.005  # the note gives two places
    assert abs(result["bound"] - lp) <= 1e-6 * lp
    assert optimum - 1e-6 <= result["bound"]


def test_a_child_that_fails_leaves_the_run_its_other_bounds_and_says_so():
    scenario = _scenario()
    with _as_national():
        kept = allocate(scenario, time_limit_s=60, candidates=4, solver="cbc")  # CBC: no child is started
    assert not any("child process" in n for n in kept.notes)

    def broken_links(links, *args):
        # A rule-8 row naming a supporter who does not exist: PricingLP fails in the child.
        return allocate_module.InternalFirst(links.req[:1], np.array([10**6]), links.m[:1])

    with _as_national(fewer_links=broken_links):
        sol = allocate(scenario, time_limit_s=60, candidates=4)
    result = to_result(scenario, sol)
    assert check(scenario, result) == []
    assert any("no LP bound: the child process solving it failed (IndexError" in n for n in sol.notes), sol.notes
    # Without the LP the bound is the prices' (or the trivial one), which is looser than the LP here.
    lp, _ = certified_lp_bound(scenario, 30)
    assert result["bound"] > lp + 1e-3
    assert result["objective"] == to_result(scenario, kept)["objective"]


def test_a_run_that_ends_first_does_not_wait_for_the_child_and_stops_it():
    scenario = _scenario()
    a, pairs, links = _pairs_and_links(scenario, None)
    background = BackgroundLP(pairs, a, links, time.perf_counter() + 60)
    started = time.perf_counter()
    # The child is still starting its interpreter: nothing to take, and no waiting for it.
    assert background.collect(wait=False) == float("inf")
    assert time.perf_counter() - started < 1.0
    assert background.note == "no LP bound: the run finished before the child process solving it"
    assert not background._proc.is_alive()


def test_the_child_is_stopped_at_the_time_limit():
    scenario = _scenario()
    a, pairs, links = _pairs_and_links(scenario, None)
    background = BackgroundLP(pairs, a, links, time.perf_counter())
    assert background.collect(wait=True, grace=0.0) == float("inf")
    assert background.note == "no LP bound: the child process solving it was still running at the time limit"
    assert not background._proc.is_alive()


KILLED_RUN = """
import os, signal, sys, time
from matching import load_scenario
from matching.allocate import BackgroundLP, _pairs_and_links
from matching.synth import synthesise

# 447,786 pairs: beyond PDLP_MIN_COLUMNS, so the child runs PDLP to its time limit, ten minutes on.
scenario = load_scenario(synthesise(schools=1000, supporters=2500, requests=3000, seed=1))
a, pairs, links = _pairs_and_links(scenario, None)
background = BackgroundLP(pairs, a, links, time.perf_counter() + 600)
print(background._proc.pid, flush=True)
time.sleep(float(sys.argv[1]))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_the_child_stops_when_the_run_is_killed():
    """The app cancels a run by killing `python -m matching solve`; its LP child must not live on."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    # The run is killed 5 s in: the child is past starting up, building or solving its LP. The child
    # shares the run's stdout, so read only the line with its id rather than wait for the pipe to close.
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN, "5"], stdout=subprocess.PIPE, text=True)  # noqa: S603
    pid = int(run.stdout.readline())
    run.wait(timeout=120)
    run.stdout.close()
    try:
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        assert not _alive(pid), "the LP child outlived the run that started it"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


class _Done:
    """Stands in for a child process that has already exited."""

    exitcode = 0

    def is_alive(self):
        return False

    def join(self):
        pass


def _collect(*sent):
    import multiprocessing  # noqa: PLC0415

    background = BackgroundLP.__new__(BackgroundLP)
    background._recv, send = multiprocessing.Pipe(duplex=False)
    background._proc, background.deadline, background.note = _Done(), time.perf_counter(), ""
    background._bounds, background._guide, background._guide_taken = [], None, False
    background._final, background._eof = None, False
    for item in sent:
        send.send(item)
    send.close()
    return background.collect(wait=True), background.note


def test_what_the_child_sends_is_taken_only_when_it_is_a_finite_bound():
    assert _collect(("bound", 123.456)) == (123.456, "LP bound over every eligible pair, solved beside the run: 123.46")
    assert _collect(("bound", float("inf"))) == (
        float("inf"),
        "no LP bound: the solver stopped before it had row prices",
    )
    failed = "no LP bound: the child process solving it failed (MemoryError: )"
    assert _collect(("error", "MemoryError: ")) == (float("inf"), failed)
    # a child that died before sending anything: the pipe closes empty
    assert _collect() == (float("inf"), "no LP bound: the child process solving it stopped (exit code 0)")


def test_the_first_solves_bound_counts_and_stands_when_the_second_gives_none():
    values = np.zeros(3, dtype=np.float32)
    # Both solves finished: the tighter bound is taken, whichever it was.
    assert _collect(("guide", values, 130.0), ("bound", 123.4))[0] == 123.4
    assert _collect(("guide", values, 120.0), ("bound", 123.4))[0] == 120.0
    first = "LP bound over every eligible pair, from the first of the two solves beside the run: 130.00"
    assert _collect(("guide", values, 130.0), ("error", "MemoryError: ")) == (
        130.0,
        f"{first} (the second gave none: the child process solving it failed (MemoryError: ))",
    )
    assert _collect(("guide", values, 130.0)) == (
        130.0,
        f"{first} (the second gave none: the child process solving it stopped (exit code 0))",
    )
    # A first solve that stopped without prices gives no bound, but its values are still handed over.
    assert _collect(("guide", values, float("inf")), ("bound", float("inf")))[0] == float("inf")


def test_the_first_solves_values_are_handed_over_once_and_never_waited_for():
    import multiprocessing  # noqa: PLC0415

    background = BackgroundLP.__new__(BackgroundLP)
    background._recv, send = multiprocessing.Pipe(duplex=False)
    background._proc, background.deadline, background.note = _Done(), time.perf_counter(), ""
    background._bounds, background._guide, background._guide_taken = [], None, False
    background._final, background._eof = None, False
    started = time.perf_counter()
    assert background.guide() is None  # nothing sent yet: no waiting
    assert time.perf_counter() - started < 0.5
    send.send(("guide", np.array([0.5, 1.0], dtype=np.float32), 130.0))
    assert background.guide().tolist() == [0.5, 1.0]
    assert background.guide() is None
    send.send(("bound", 123.4))
    send.close()
    assert background.collect(wait=True) == 123.4
