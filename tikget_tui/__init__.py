"""TikGet TUI: save public TikTok stories before they expire."""

__version__ = "0.1.0"
