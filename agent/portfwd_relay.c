// SPDX-License-Identifier: GPL-2.0
/*
 * agent/portfwd_relay.c - the splice relay fc-agent shares with the host's
 * rootless forwarder: one implementation, compiled into both programs (the
 * static agent links nothing from userspace/, so it includes the source).
 */
#include "../userspace/portfwd/relay.c"
