"""Helpers shared by the end-to-end, chaos and benchmark tests."""
