"""ITA dashboard: integrity and transparency measures and IIT/EIT survey completion for Thai agencies."""

__version__ = "0.1.0"
