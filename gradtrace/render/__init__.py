"""Renderers: read a Trace, write text, Markdown, JSON, DOT, SVG. Never call the engine."""
