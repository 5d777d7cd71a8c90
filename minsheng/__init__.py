"""minsheng: keeps a prefecture's annual livelihood targets honest."""

__version__ = "0.1.0"
