"""One module per `segnet-studio` command: HELP, add_arguments(parser), run(args).

Beside them, what the commands share (never one command importing another): `arguments`
(argument types, model options, the model they name), `progress_bar` (the text bar) and
`interrupt` (Ctrl-C as a cancel token)."""
