# tests/harness
