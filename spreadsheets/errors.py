"""The error a spreadsheet that cannot be read or imported raises."""


class SpreadsheetError(Exception):
    """A file that cannot be read; ``message`` is fit to show next to the field."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# Formats ----------------------------------------------------------------------
