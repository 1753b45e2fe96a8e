"""Robot Framework keyword library: `Library    pybench.robot.BenchLibrary` in a suite."""
