"""The I/O shells: each runs the pure match flow with one way of doing HTTP."""
