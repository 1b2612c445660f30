#!/bin/sh
# Fails when a tracked C/C++ source differs from .clang-format (STYLE.md 15).
# Generated code lives in the build tree and is never checked.
cd "$1" || exit 2
files=$(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null)
[ -n "$files" ] || files=$(find base events commands engine projections api cli replay tests \
    -name '*.[ch]' -o -name '*.cc' 2>/dev/null)
exec clang-format --dry-run -Werror $files
