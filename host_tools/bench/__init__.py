"""Benchmarks run by `make bench`: each module has main() that prints a table and writes JSON."""
