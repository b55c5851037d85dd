"""Open-loop benchmarks of waitbus beside its peers, and instruction-count regression gates."""
