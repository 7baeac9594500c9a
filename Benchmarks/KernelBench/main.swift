// Kernel microbenchmark: filled in by the kernels work.
print("kernelbench: not yet")
