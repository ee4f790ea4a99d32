"""Tests of hallctl, the engineers' command line client."""
