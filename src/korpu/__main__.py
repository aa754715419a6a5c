"""`python -m korpu` is the `korpu` command."""

from korpu.cli import main

main()
