"""The ``molvae`` command line: one small module per subcommand, each calling the Python API."""
