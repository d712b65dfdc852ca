"""labelproof: image annotation programs whose quality and data custody can be proven."""

__version__ = "0.1.0"

__all__ = ["__version__"]
