"""Briefing: a static site generator for briefings."""

__version__ = "0.1.0"
