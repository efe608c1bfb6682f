"""Framework-free matcher: school-support-scenario/1 in, school-support-result/1 out."""

from matching.scenario import ScenarioError, load_scenario

__all__ = ["ScenarioError", "check", "load_scenario", "rank", "solve"]


def __getattr__(name: str):
    # The solver stack (PuLP, HiGHS, scikit-learn) loads on first use, so a bad input fails fast.
    if name in ("solve", "rank"):
        from matching import allocate

        return getattr(allocate, name)
    if name == "check":
        from matching.checker import check

        return check
    raise AttributeError(f"module 'matching' has no attribute {name!r}")
