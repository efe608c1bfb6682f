"""Framework-free matcher: school-support-scenario/1 in, school-support-result/1 out."""
