"""loandocs: read loan application documents offline and check them for completeness."""

__version__ = "0.1.0"
