#!/usr/bin/env bash
# Fail if any Go file (testdata excluded) is not gofmt-formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting (run gofmt -w):" >&2
	echo "$unformatted" >&2
	exit 1
fi
