/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ui_term.c - curses, confined (see ui_term.h).
 *
 * Colour is used only when the terminal has it; every state also reads
 * as a word on screen, so vt100 and monochrome consoles lose nothing but
 * colour. Line drawing goes through ACS characters, which ncurses maps to
 * the terminal's own (or to Unicode, or to ASCII '-', '|', '+' where the
 * terminal has none). The out-of-memory hook and every exit path call
 * ui_term_stop(), so the shell gets its terminal back in all cases.
 */
#include <curses.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>

#include "ui_fmt.h"
#include "ui_term.h"

#include <term.h>   /* last: it defines macros such as "lines" */

static int started;     /* the only mutable global: curses itself is global */

static void init_styles(void)
{
    if (!has_colors())
        return;
    start_color();
    use_default_colors();
    init_pair(1, COLOR_GREEN, -1);
    init_pair(2, COLOR_YELLOW, -1);
    init_pair(3, COLOR_RED, -1);
    init_pair(4, COLOR_CYAN, -1);
    init_pair(5, COLOR_BLACK, COLOR_CYAN);
    init_pair(6, COLOR_BLACK, COLOR_WHITE);
}

static attr_t style_attr(enum ui_style s)
{
    int c = has_colors() && COLORS >= 8;
    switch (s) {
    case UI_S_BOLD: return A_BOLD;
    case UI_S_DIM: return A_DIM;
    case UI_S_OK: return c ? COLOR_PAIR(1) : A_NORMAL;
    case UI_S_WARN: return c ? COLOR_PAIR(2) | A_BOLD : A_BOLD;
    case UI_S_FAIL: return c ? COLOR_PAIR(3) | A_BOLD : A_BOLD;
    case UI_S_TITLE: return A_BOLD;
    case UI_S_SECTION: return c ? COLOR_PAIR(4) : A_NORMAL;
    case UI_S_HEAD: return c ? COLOR_PAIR(5) : A_REVERSE;
    case UI_S_CURSOR: return c ? COLOR_PAIR(6) | A_BOLD : A_REVERSE;
    case UI_S_KEY: return c ? COLOR_PAIR(5) | A_BOLD : A_REVERSE;
    case UI_S_BAR: return A_NORMAL;
    case UI_S_MARK: return c ? COLOR_PAIR(2) | A_BOLD : A_BOLD;
    default: return A_NORMAL;
    }
}

/*
 * Home and End arrive in several spellings depending on the terminal and
 * any multiplexer in between; teach curses all the common ones so that a
 * TERM that does not quite match still gets them (and not a stray Esc).
 */
static void more_keys(void)
{
    static const char *const home[] = { "\033[1~", "\033[7~", "\033[H", "\033OH" };
    static const char *const end[] = { "\033[4~", "\033[8~", "\033[F", "\033OF" };
    for (int i = 0; i < 4; i++) {
        define_key(home[i], KEY_HOME);
        define_key(end[i], KEY_END);
    }
    define_key("\033[5~", KEY_PPAGE);
    define_key("\033[6~", KEY_NPAGE);
    define_key("\033[Z", KEY_BTAB);
}

int ui_term_start(char *err, int errlen)
{
    if (!newterm(NULL, stdout, stdin)) {
        const char *term = getenv("TERM");
        snprintf(err, (size_t)errlen, "cannot use the terminal '%s' (%s)", term ? term : "",
                 term && term[0] ? "unknown to terminfo? try TERM=xterm-256color"
                                 : "TERM is not set");
        return -1;
    }
    started = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    more_keys();
    curs_set(0);
    init_styles();
    return 0;
}

void ui_term_stop(void)
{
    if (!started)
        return;
    started = 0;
    /* without an alternate screen (vt100, linux) the last frame would
     * stay under the shell's prompt */
    char *rmcup = tigetstr("rmcup");
    if (!rmcup || rmcup == (char *)-1) {
        erase();
        refresh();
    }
    curs_set(1);
    endwin();
}

void ui_term_size(int *rows, int *cols)
{
    getmaxyx(stdscr, *rows, *cols);
}

int ui_term_has_colors(void)
{
    return has_colors();
}

int ui_term_utf8(void)
{
    return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

void ui_term_erase(void)
{
    erase();
}

void ui_term_put(int y, int x, enum ui_style style, const char *s)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (y < 0 || y >= rows || x >= cols)
        return;
    attrset(style_attr(style));
    /* the last cell of the last line would scroll some terminals */
    int room = cols - x - (y == rows - 1 ? 1 : 0);
    if (room > 0)
        mvaddnstr(y, x, s, (int)ui_prefix(s, room));
    attrset(A_NORMAL);
}

void ui_term_fill(int y, int x, int n, enum ui_style style)
{
    attrset(style_attr(style));
    mvhline(y, x, ' ', n);
    attrset(A_NORMAL);
}

/*
 * In a UTF-8 locale the box-drawing characters are written as text, which
 * every UTF-8 terminal shows (and tmux captures) as drawn; elsewhere the
 * terminal's ACS set, which ncurses maps to ASCII where it has none.
 */
static void line_chars(int n, const char *uni, chtype acs)
{
    int y, x, utf8 = ui_term_utf8();
    getyx(stdscr, y, x);
    for (int i = 0; i < n; i++) {
        if (utf8)
            mvaddstr(y, x + i, uni);
        else
            mvaddch(y, x + i, acs);
    }
}

void ui_term_hline(int y, int x, int n, enum ui_style style)
{
    attrset(style_attr(style));
    move(y, x);
    line_chars(n, "\u2500", ACS_HLINE);
    attrset(A_NORMAL);
}

void ui_term_box(int y, int x, int h, int w, enum ui_style style)
{
    attrset(style_attr(style));
    move(y, x);
    line_chars(1, "\u250c", ACS_ULCORNER);
    line_chars(w - 2, "\u2500", ACS_HLINE);
    line_chars(1, "\u2510", ACS_URCORNER);
    for (int i = 1; i < h - 1; i++) {
        move(y + i, x);
        line_chars(1, "\u2502", ACS_VLINE);
        move(y + i, x + w - 1);
        line_chars(1, "\u2502", ACS_VLINE);
    }
    move(y + h - 1, x);
    line_chars(1, "\u2514", ACS_LLCORNER);
    line_chars(w - 2, "\u2500", ACS_HLINE);
    line_chars(1, "\u2518", ACS_LRCORNER);
    attrset(A_NORMAL);
}

void ui_term_flush(void)
{
    refresh();
}

static int map_key(int k)
{
    switch (k) {
    case KEY_UP: return UI_KEY_UP;
    case KEY_DOWN: return UI_KEY_DOWN;
    case KEY_LEFT: return UI_KEY_LEFT;
    case KEY_RIGHT: return UI_KEY_RIGHT;
    case KEY_PPAGE: return UI_KEY_PGUP;
    case KEY_NPAGE: return UI_KEY_PGDN;
    case KEY_HOME: case KEY_FIND: return UI_KEY_HOME;
    case KEY_END: case KEY_SELECT: return UI_KEY_END;
    case KEY_ENTER: case '\r': case '\n': return UI_KEY_ENTER;
    case 27: return UI_KEY_ESC;
    case '\t': return UI_KEY_TAB;
    case KEY_BTAB: return UI_KEY_BTAB;
    case KEY_BACKSPACE: case 127: case 8: return UI_KEY_BACKSPACE;
    case KEY_DC: return UI_KEY_DELETE;
    case KEY_RESIZE: return UI_KEY_RESIZE;
    case KEY_F(1): return UI_KEY_F1;
    default: return k >= 0 && k < 256 ? k : UI_KEY_NONE;
    }
}

int ui_term_key(int timeout_ms)
{
    timeout(timeout_ms);
    int k = getch();
    return k == ERR ? UI_KEY_NONE : map_key(k);
}
