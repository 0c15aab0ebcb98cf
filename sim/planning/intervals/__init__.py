"""Per-interval staffing: the interval grid, per-interval targets, the search and its plan."""
