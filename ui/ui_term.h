/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_term.h - the terminal, and the only part of the console that calls
 * curses. Everything else draws through these few calls and reads keys
 * as UI_KEY_* codes, so the model, the key actions and even the views
 * compile without curses.h.
 *
 * Main thread only. Text passed in must already be escaped (ui_escape)
 * and fitted (ui_fit): this layer writes what it is given, clipped to the
 * screen.
 */
#ifndef HOOKD_UI_TERM_H
#define HOOKD_UI_TERM_H

/* Keys beyond plain characters (which are their byte value, < 256). */
enum {
    UI_KEY_NONE = -1,          /* timeout: no key */
    UI_KEY_UP = 0x1000, UI_KEY_DOWN, UI_KEY_LEFT, UI_KEY_RIGHT,
    UI_KEY_PGUP, UI_KEY_PGDN, UI_KEY_HOME, UI_KEY_END,
    UI_KEY_ENTER, UI_KEY_ESC, UI_KEY_TAB, UI_KEY_BTAB, UI_KEY_BACKSPACE,
    UI_KEY_DELETE, UI_KEY_RESIZE, UI_KEY_F1,
};

#define UI_CTRL(c) ((c) & 0x1f)

/* What a piece of text means; the terminal picks colour or attributes. */
enum ui_style {
    UI_S_NORMAL, UI_S_BOLD, UI_S_DIM, UI_S_OK, UI_S_WARN, UI_S_FAIL,
    UI_S_TITLE,      /* header line */
    UI_S_SECTION,    /* section rules */
    UI_S_HEAD,       /* column headings */
    UI_S_CURSOR,     /* the selected row */
    UI_S_KEY,        /* a key name in the footer */
    UI_S_BAR,        /* footer and prompt background */
    UI_S_MARK,       /* a marked row */
    UI_S_N
};

/* Take the terminal (alternate screen, raw keys). 0 or -1 with a message in err. */
int ui_term_start(char *err, int errlen);
/* Give it back as it was; safe to call twice and from the out-of-memory hook. */
void ui_term_stop(void);

void ui_term_size(int *rows, int *cols);
int ui_term_has_colors(void);
/* Does the locale encode UTF-8 (and may views use ▁▂▃ and …)? */
int ui_term_utf8(void);

void ui_term_erase(void);
/* Write s at (y, x) in style, clipped to the screen. */
void ui_term_put(int y, int x, enum ui_style style, const char *s);
/* Paint n cells of (y, x) with spaces in style. */
void ui_term_fill(int y, int x, int n, enum ui_style style);
/* A horizontal line of n cells (ACS line drawing, '-' where missing). */
void ui_term_hline(int y, int x, int n, enum ui_style style);
/* A box around the rectangle (line drawing, ASCII where missing). */
void ui_term_box(int y, int x, int h, int w, enum ui_style style);
/* Show the pending drawing. */
void ui_term_flush(void);

/* Wait up to timeout_ms for a key; UI_KEY_NONE when none came. */
int ui_term_key(int timeout_ms);

#endif
