"""The plan model: one scenario's inputs, the linear program, its solution and diagnosis."""
