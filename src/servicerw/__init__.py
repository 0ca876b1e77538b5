"""ServiceRW: a marketplace for local service businesses in Rwanda."""

__version__ = "0.1.0"
