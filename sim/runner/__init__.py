"""Running replications: random streams, one replication, and the executors that run many."""
