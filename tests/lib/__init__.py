"""The selftests' library (as kselftest's net/lib/py): what test files share lives here,
never in a test module."""
