#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# t0740: the crash campaign (tests/crash/campaign.sh), short: 3 cycles of
# kill -9 under mixed ingest and delivery load. make crash runs 20.
exec env CRASH_CYCLES="${CRASH_CYCLES:-3}" sh "$(dirname "$0")/crash/campaign.sh"
