"""Exercise checkers, one module per part of the course (see aie.check for the pattern)."""
