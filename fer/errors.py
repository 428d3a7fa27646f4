"""Exceptions the CLI turns into a one-line message and a non-zero exit."""


class FerError(Exception):
    """Base class for errors caused by input or settings rather than a bug."""


class ConfigError(FerError):
    """params.yaml is missing, malformed or inconsistent."""


class DataError(FerError):
    """A data file cannot be read or has the wrong layout."""


class DataValidationError(FerError):
    """The data set failed one or more expectations of the validation suite."""
