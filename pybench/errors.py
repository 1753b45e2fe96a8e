"""The one exception type the bench raises for bad input: the CLI prints it as one line."""


class BenchError(Exception):
    """Bad input or a failed precondition, with a message meant for the user as it is.

    The command line prints ``pybench: error: <message>`` and exits with status 2; the
    message names the file or option and what is wrong with it.
    """
