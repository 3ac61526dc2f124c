"""Errors of the source transform."""


class TransformError(Exception):
    """A construct the source transform cannot differentiate, with the place it was found."""

    def __init__(self, message, filename=None, lineno=None, construct=None):
        self.reason = message
        self.filename = filename
        self.lineno = lineno
        self.construct = construct
        where = f"{filename}, line {lineno}: " if filename and lineno else ""
        super().__init__(where + message)
