"""The error a subcommand raises to stop with a message and exit code 2."""


class CliError(Exception):
    """A problem with what the user asked for; the message is shown as is."""
