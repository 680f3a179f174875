"""Beatport protocol: building requests and parsing answers, for each source. Pure."""
