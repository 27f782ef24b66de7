"""One module per subcommand: ``run(args, settings) -> int``."""
