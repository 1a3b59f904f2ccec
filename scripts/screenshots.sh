#!/usr/bin/env bash
# Retakes the README's screenshots in docs/: the end-to-end tests that drive the real daemon (and,
# for the alert e-mail, the real aiosmtpd server it sends to) save them in Chromium when
# WEBFILTER_SCREENSHOTS names a directory. Each shot is taken by the test that checks what it shows,
# so a picture cannot drift from the behaviour it documents.
#   scripts/screenshots.sh                    # every screenshot, into docs/
#   scripts/screenshots.sh signal-review      # only the tests whose path matches
# Needs chromium and python3-aiosmtpd (scripts/test-tools.sh). Exit 0 only when every test passed.
set -euo pipefail
cd "$(dirname "$0")/.."
# The test files that take a screenshot, and what each saves:
#   console-browser       docs/console-overview.png, docs/console-device.png
#   permission-requests   docs/requests-teacher.png, docs/requests-approver.png, docs/requests-exceptions.png
#   signal-review         docs/signal-review.png (the review form on the Signals page)
#   alerts-email          docs/alert-email.png (an alert e-mail as aiosmtpd received it)
tests='e2e/(console-browser|permission-requests|signal-review|alerts-email)\.test\.ts$'
if [ $# -gt 0 ]; then tests="e2e/.*($1).*\\.test\\.ts\$"; fi
npm run build >/dev/null
WEBFILTER_SCREENSHOTS="$PWD/docs" NO_COLOR=1 node --import tsx node_modules/uvu/bin.js test "$tests"
git status --short docs/
