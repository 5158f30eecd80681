"""One exception type, so the workflow can tell a researcher's mistake from a bug in the code."""


class LinguaFrancaError(Exception):
    """A problem with the inputs (config, model, data) that the user can act on.

    The message names what was wrong, where, and what is allowed.
    """
