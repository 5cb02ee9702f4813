"""Loaded by scripts/schemathesis (SCHEMATHESIS_HOOKS) before the run starts.

CPython 3.11.0 to 3.11.7 and 3.12.0 to 3.12.1 can raise "SystemError: AST
constructor recursion depth mismatch" from `ast.parse` called deep in a call
stack (python/cpython#106905, fixed in 3.11.8 and 3.12.2). Hypothesis parses
the whole source file of a lambda the first time it describes it, and
schemathesis's coverage phase gets there deep in its stack: on such a Python
whole operations end in a "Runtime Error" at random. Parsing schemathesis's
files here, at the top of the stack, and handing hypothesis a cache that
holds them, means the deep parse never happens. (Hypothesis's own cache is
per thread, and schemathesis's workers are threads: it would start empty in
each.) Elsewhere this does nothing.
"""

import ast
import pathlib
import sys

AFFECTED = (3, 11, 0) <= sys.version_info < (3, 11, 8) or (3, 12, 0) <= sys.version_info < (3, 12, 2)

if AFFECTED:
    import linecache

    import schemathesis
    from hypothesis.internal import lambda_sources

    parsed = {}
    root = pathlib.Path(schemathesis.__file__).parent
    for path in sorted(root.rglob("*.py")):
        # Hypothesis keys its cache by the lines `inspect.findsource` reads, from linecache.
        lines = linecache.getlines(str(path))
        if "lambda" not in "".join(lines):
            continue
        parsed[tuple(lines)] = lambda_sources.extract_all_lambdas(ast.parse("".join(lines)))
    # A plain dict, shared by every thread; it also takes what hypothesis adds.
    lambda_sources.AST_LAMBDAS_CACHE = parsed
