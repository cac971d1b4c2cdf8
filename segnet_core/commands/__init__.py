"""One module per `segnet-studio` command: HELP, add_arguments(parser), run(args)."""
