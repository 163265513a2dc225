#ifndef TRUSTGAP_CNCURSES_SHIM_H
#define TRUSTGAP_CNCURSES_SHIM_H

// SwiftPM drops the -D flags of ncursesw.pc, so ask for the wide-character API here.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// Swift 6 refuses shared mutable globals and does not import function-like macros:
// each gets a static inline accessor.
static inline WINDOW *tg_stdscr(void) { return stdscr; }
static inline int tg_lines(void) { return LINES; }
static inline int tg_cols(void) { return COLS; }
static inline int tg_colors(void) { return COLORS; }
static inline int tg_color_pairs(void) { return COLOR_PAIRS; }
static inline int tg_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int tg_getmaxx(WINDOW *w) { return getmaxx(w); }
static inline attr_t tg_a_normal(void) { return A_NORMAL; }
static inline attr_t tg_a_bold(void) { return A_BOLD; }
static inline attr_t tg_a_reverse(void) { return A_REVERSE; }
static inline attr_t tg_a_underline(void) { return A_UNDERLINE; }
static inline attr_t tg_a_dim(void) { return A_DIM; }
static inline int tg_key_f(int n) { return KEY_F(n); }
static inline int tg_err(void) { return ERR; }
static inline int tg_ok(void) { return OK; }

// Write one cell: a wide-character string (one base char plus combining marks) with attributes and a colour pair.
static inline int tg_put_cell(int y, int x, const wchar_t *wch, attr_t attrs, short pair) {
    cchar_t cc;
    if (setcchar(&cc, wch, attrs, pair, NULL) == ERR) { return ERR; }
    return mvwadd_wch(stdscr, y, x, &cc);
}

static inline int tg_get_wch(wint_t *out) { return wget_wch(stdscr, out); }
static inline FILE *tg_stdout(void) { return stdout; }
static inline FILE *tg_stdin(void) { return stdin; }
static inline int tg_key_code_yes(void) { return KEY_CODE_YES; }
static inline const char *tg_codeset(void) { return nl_langinfo(CODESET); }

#endif
