"""Power-cut campaigns: plan cuts from a golden flash trace, run them, judge, report.

plan.py and states.py choose the cuts (pure), oracle.py judges one recovery (pure),
scenario.py says how an update is performed on an engine, runner.py runs the golden
update and the cuts, parallel.py spreads cuts over worker processes, report.py writes
JSON, JUnit XML and HTML, cli.py is `pybench powercut`. See docs/powercut.md.
"""
