"""Technicians' and test rigs' tools for branchline appliances."""
