"""The library behind the dashboard, in layers; each imports only from the layers before it.

paths, files → circuit → execution → data → faces → learning → results → ibm, server → commands

``python -m core`` lists the command-line tools.
"""
