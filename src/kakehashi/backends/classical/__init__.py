"""Classical solvers: HiGHS, SCIP and exhaustive search; they prove optimality."""
