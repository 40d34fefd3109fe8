"""The ``loandocs`` command line: one module per command group, all thin (parse arguments, call
the packages below). Exit status: 0 when the command ran, 2 for usage errors, 3 when the OCR
engine or the configuration is unusable."""

from loandocs.cli.main import EXIT_ENVIRONMENT, EXIT_USAGE, build_parser, main

__all__ = ["EXIT_ENVIRONMENT", "EXIT_USAGE", "build_parser", "main"]
