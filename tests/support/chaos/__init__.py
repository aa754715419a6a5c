"""What the chaos suite needs besides private servers: the workload, the ledger, the verdict."""
