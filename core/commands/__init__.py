"""The command-line tools, ``python -m core <command>``: argument parsing, progress bars, printing; the work is in the library."""
