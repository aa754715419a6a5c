"""The `korpu` command."""


def main() -> None:
    raise SystemExit("korpu: not yet")
