/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui.h - the console's entry point, called by main.c for `hookd console`.
 */
#ifndef HOOKD_UI_H
#define HOOKD_UI_H

/* Run the console with the arguments after "console"; returns the exit status. */
int ui_console_main(int argc, char **argv);

#endif
