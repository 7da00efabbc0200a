"""Helpers shared by tests in more than one folder: each test file imports what it uses from here, never from another test file."""
