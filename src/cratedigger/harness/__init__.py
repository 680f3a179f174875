"""The benchmark harness behind `cratedigger bench`: scenarios, runs, bounds, reports."""
