"""Framework-free matcher: school-support-scenario/1 in, school-support-result/1 out."""

from matching.allocate import rank, solve
from matching.check import check
from matching.scenario import ScenarioError, load_scenario

__all__ = ["ScenarioError", "check", "load_scenario", "rank", "solve"]
