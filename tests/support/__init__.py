"""Helpers shared by tests: upstream answer bodies and fakes."""
