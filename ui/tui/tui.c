/*
 * tui.c: the screen of cm-awb and cm-ra: header, the tree or the tabs, the
 * list of the current view with its detail pane, the status line and the
 * key hints; the main loop, resizing and the help screen.
 */
#include "config.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <panel.h>

#include "tui-int.h"

static int	tui_get_secret(void *, int, const char *, int, char *,
		    size_t);

/*
 * Write s at (y, x) in at most w columns, padded with blanks; UTF-8 is
 * cut at a character, by display width.
 */
void
tui_put(WINDOW *win, int y, int x, int w, const char *s, attr_t attr)
{
	wchar_t wc;
	mbstate_t st;
	size_t n;
	int used = 0, cw;

	if (w <= 0)
		return;
	wattron(win, attr);
	wmove(win, y, x);
	memset(&st, 0, sizeof(st));
	while (s != NULL && *s != '\0' && *s != '\n') {
		n = mbrtowc(&wc, s, strlen(s), &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			wc = L'?';
			n = 1;
			memset(&st, 0, sizeof(st));
		}
		if (wc == L'\t')
			wc = L' ';
		if ((cw = wcwidth(wc)) < 0)
			wc = L'?', cw = 1;
		if (used + cw > w)
			break;
		waddnwstr(win, &wc, 1);
		used += cw;
		s += n;
	}
	for (; used < w; used++)
		waddch(win, ' ');
	wattroff(win, attr);
}

/* The attributes of a colour pair, or their monochrome stand-in. */
attr_t
tui_attr(struct tui *t, int pair)
{
	if (t->colour)
		return (attr_t)COLOR_PAIR(pair) | (pair == TUI_C_ERROR ?
		    A_BOLD : A_NORMAL);
	switch (pair) {
	case TUI_C_HEADER:	return A_REVERSE;
	case TUI_C_ERROR:	return A_BOLD;
	case TUI_C_SELECT:	return A_REVERSE;
	case TUI_C_COMMAND:	return A_NORMAL;
	default:		return A_NORMAL;
	}
}

/*
 * Read a key.  Returns KEY_CODE_YES (*k is a KEY_*), OK (*k is a
 * character) or ERR.
 */
int
tui_getkey(WINDOW *win, wint_t *k)
{
	int r;

	keypad(win, TRUE);
	r = wget_wch(win, k);
	if (r == OK && (*k == L'\r' || *k == L'\n'))
		*k = L'\n';
	return r;
}

int
tui_init(struct tui **out, struct cm_ctx *ctx, const struct tui_app *app)
{
	struct cm_ui_ops ui;
	struct tui *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CM_ERR_NOMEM;
	t->ctx = ctx;
	t->app = app;
	t->focus = app->tabs ? 1 : 0;
	ui.get_secret = tui_get_secret;
	ui.arg = t;
	cm_ctx_set_ui(ctx, &ui);
	setlocale(LC_ALL, "");
	if (initscr() == NULL) {
		free(t);
		return CM_ERR_INTERNAL;
	}
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors() && getenv("NO_COLOR") == NULL && start_color() == OK) {
		use_default_colors();
		init_pair(TUI_C_HEADER, COLOR_WHITE, COLOR_BLUE);
		init_pair(TUI_C_ERROR, COLOR_RED, -1);
		init_pair(TUI_C_SELECT, COLOR_BLACK, COLOR_CYAN);
		init_pair(TUI_C_COMMAND, COLOR_GREEN, -1);
		init_pair(TUI_C_DIALOG, -1, -1);
		t->colour = 1;
	}
	*out = t;
	return 0;
}

void
tui_end(struct tui *t)
{
	size_t i;

	if (t == NULL)
		return;
	endwin();
	for (i = 0; i < t->app->nviews; i++)
		tui_rows_clear(&t->app->views[i]->rows);
	if (t->secret != NULL) {
		explicit_bzero(t->secret, strlen(t->secret));
		free(t->secret);
	}
	free(t);
}

struct cm_ctx *
tui_ctx(struct tui *t)
{
	return t->ctx;
}

void
tui_header(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->header, sizeof(t->header), fmt, ap);
	va_end(ap);
}

void
tui_status(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof(t->status), fmt, ap);
	va_end(ap);
	t->status_err = 0;
}

/* Mark the status line's message as an error. */
void
tui_status_error(struct tui *t)
{
	t->status_err = 1;
	t->form_err = 1;
}

/* Show the engine's message for rc on the status line; returns rc. */
int
tui_error(struct tui *t, int rc)
{
	const char *m = cm_ctx_errmsg(t->ctx);

	if (m == NULL || *m == '\0')
		m = cm_strerror(rc);
	snprintf(t->status, sizeof(t->status), "%s", m);
	t->status_err = 1;
	t->form_err = 1;
	return rc;
}

/* Show the cmctl command that does what the last action did. */
void
tui_command(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	memcpy(t->status, "$ cmctl ", 9);
	va_start(ap, fmt);
	vsnprintf(t->status + 8, sizeof(t->status) - 8, fmt, ap);
	va_end(ap);
	t->status_err = 0;
	/* What went wrong beside it (a CRL on revocation not issued). */
	if (cm_ctx_warning(tui_ctx(t)) != NULL) {
		snprintf(t->status, sizeof(t->status), "Done, but %s",
		    cm_ctx_warning(tui_ctx(t)));
		cm_ctx_clear_warning(tui_ctx(t));
		t->status_err = 1;
	}
}

/* The secret a login form already asked for: get_secret's next answer. */
void
tui_set_secret(struct tui *t, const char *s)
{
	if (t->secret != NULL) {
		explicit_bzero(t->secret, strlen(t->secret));
		free(t->secret);
		t->secret = NULL;
	}
	if (s != NULL)
		t->secret = strdup(s);
}

static int
tui_get_secret(void *arg, int kind, const char *prompt, int confirm,
    char *buf, size_t len)
{
	struct tui *t = arg;
	const char *file;

	if (kind == CM_SECRET_KEYSTORE && t->secret == NULL &&
	    (file = cm_config_get(t->ctx,
	    "keystore.pin-file")) != NULL)
		/* The operator put the passphrase in a file: as cmctl does. */
		return cm_secret_file(t->ctx, file, 1, buf, len);
	if (t->secret != NULL) {
		if (strlen(t->secret) >= len)
			return CM_ERR_INVAL;
		memcpy(buf, t->secret, strlen(t->secret) + 1);
		tui_set_secret(t, NULL);
		return 0;
	}
	return tui_secret(t, prompt, confirm, buf, len) ? 0 : CM_ERR_DENIED;
}

struct tui_view *
tui_current(struct tui *t)
{
	return t->app->views[t->view];
}

/* Geometry of the body: the list and the detail pane. */
struct geom {
	int	top;		/* first row of the body */
	int	x;		/* first column of the list */
	int	w;
	int	list_h;		/* rows of the list, its header included */
	int	detail_y;
	int	detail_h;
};

static void
geometry(struct tui *t, struct geom *g)
{
	int body;

	g->top = t->app->tabs ? 2 : 1;
	g->x = t->app->tabs ? 0 : TUI_TREE_W + 1;
	g->w = COLS - g->x;
	body = LINES - 2 - g->top;
	g->list_h = body / 2 > 4 ? body / 2 : 4;
	g->detail_y = g->top + g->list_h + 1;
	g->detail_h = LINES - 2 - g->detail_y;
}

static size_t
page_rows(struct tui *t)
{
	struct geom g;

	geometry(t, &g);
	return g.list_h > 1 ? (size_t)(g.list_h - 1) : 1;
}

/* Drop rows [from, from + n) of a view. */
static void
rows_drop(struct tui_rows *r, size_t from, size_t n)
{
	size_t i;

	for (i = from; i < from + n; i++) {
		free(r->v[i].key);
		free(r->v[i].text);
		free(r->v[i].aux);
	}
	memmove(&r->v[from], &r->v[from + n], (r->n - from - n) *
	    sizeof(r->v[0]));
	r->n -= n;
}

/* Load the first page (or, with from_end, the last) of a view. */
static void
load(struct tui *t, struct tui_view *v, int from_end)
{
	struct tui_rows got;
	size_t want = page_rows(t) * 2, i;
	int rc;

	memset(&got, 0, sizeof(got));
	rc = v->fetch(t, v, NULL, from_end && v->paged, v->paged ? want : 0,
	    &got);
	tui_rows_clear(&v->rows);
	v->top = v->cur = 0;
	v->loaded = 1;
	v->at_start = v->at_end = 1;
	if (rc != 0) {
		tui_rows_clear(&got);
		tui_error(t, rc);
		return;
	}
	if (from_end && v->paged) {
		/* Nearest first: turn them round. */
		for (i = 0; i < got.n / 2; i++) {
			struct tui_row r = got.v[i];
			got.v[i] = got.v[got.n - 1 - i];
			got.v[got.n - 1 - i] = r;
		}
		v->at_start = got.n < want;
		v->cur = got.n > 0 ? got.n - 1 : 0;
	} else if (v->paged)
		v->at_end = got.n < want;
	v->rows = got;
}

/* Fetch the page after the last row (or before the first). */
static int
more(struct tui *t, struct tui_view *v, int backward)
{
	struct tui_rows got, *r = &v->rows;
	size_t want = page_rows(t), i, keep;
	int rc;

	if (!v->paged || r->n == 0 || (backward ? v->at_start : v->at_end))
		return 0;
	memset(&got, 0, sizeof(got));
	rc = v->fetch(t, v, backward ? &r->v[0] : &r->v[r->n - 1], backward,
	    want, &got);
	if (rc != 0) {
		tui_rows_clear(&got);
		tui_error(t, rc);
		return 0;
	}
	if (got.n < want) {
		if (backward)
			v->at_start = 1;
		else
			v->at_end = 1;
	}
	if (got.n == 0) {
		tui_rows_clear(&got);
		return 0;
	}
	while (r->cap < r->n + got.n) {
		struct tui_row *nv = reallocarray(r->v, r->cap * 2,
		    sizeof(*nv));
		if (nv == NULL) {
			tui_rows_clear(&got);
			return 0;
		}
		r->v = nv;
		r->cap *= 2;
	}
	if (backward) {
		memmove(&r->v[got.n], &r->v[0], r->n * sizeof(r->v[0]));
		for (i = 0; i < got.n; i++)
			r->v[got.n - 1 - i] = got.v[i];
		r->n += got.n;
		v->cur += got.n;
		v->top += got.n;
		if (r->n > TUI_ROWS_MAX) {
			keep = TUI_ROWS_MAX;
			rows_drop(r, keep, r->n - keep);
			v->at_end = 0;
		}
	} else {
		memcpy(&r->v[r->n], got.v, got.n * sizeof(r->v[0]));
		r->n += got.n;
		if (r->n > TUI_ROWS_MAX) {
			size_t drop = r->n - TUI_ROWS_MAX;
			rows_drop(r, 0, drop);
			v->cur -= drop;
			v->top -= drop < v->top ? drop : v->top;
			v->at_start = 0;
		}
	}
	free(got.v);
	return (int)got.n;
}

/* Move the cursor of a view by d rows, fetching pages on the way. */
static void
cursor_move(struct tui *t, struct tui_view *v, long d)
{
	for (; d > 0; d--) {
		if (v->cur + 1 >= v->rows.n && more(t, v, 0) == 0)
			break;
		v->cur++;
	}
	for (; d < 0; d++) {
		if (v->cur == 0 && more(t, v, 1) == 0)
			break;
		v->cur--;
	}
}

/* Reload a view, keeping the cursor near where it was. */
void
tui_refresh(struct tui *t, struct tui_view *v)
{
	struct tui_rows got;
	struct tui_row before;
	size_t cur = v->cur;
	int rc;

	if (v->paged && v->loaded && cur > 0 && cur < v->rows.n) {
		/* Page on from the row above the cursor: the place stays. */
		memset(&got, 0, sizeof(got));
		before = v->rows.v[cur - 1];
		rc = v->fetch(t, v, &before, 0, page_rows(t) * 2, &got);
		if (rc == 0 && got.n > 0) {
			tui_rows_clear(&v->rows);
			v->rows = got;
			v->top = v->cur = 0;
			v->at_start = 0;
			v->at_end = got.n < page_rows(t) * 2;
			return;
		}
		tui_rows_clear(&got);
	}
	v->loaded = 0;
	load(t, v, 0);
	if (!v->paged && cur < v->rows.n)
		v->cur = cur;
	else if (!v->paged && v->rows.n > 0)
		v->cur = v->rows.n - 1;
}

/* Mark every view for reloading, the current one now. */
void
tui_refresh_all(struct tui *t)
{
	size_t i;

	for (i = 0; i < t->app->nviews; i++)
		t->app->views[i]->loaded = 0;
	tui_refresh(t, tui_current(t));
}

void
tui_select(struct tui *t, struct tui_view *v)
{
	size_t i;

	for (i = 0; i < t->app->nviews; i++)
		if (t->app->views[i] == v)
			t->view = i;
	if (!v->loaded)
		load(t, v, 0);
}

static void
draw_nav(struct tui *t)
{
	struct tui_view *v;
	size_t i;
	int x = 0, y, w;
	char buf[128];

	if (t->app->tabs) {
		move(1, 0);
		clrtoeol();
		for (i = 0; i < t->app->nviews && x < COLS; i++) {
			v = t->app->views[i];
			snprintf(buf, sizeof(buf), " %zu %s ", i + 1, v->name);
			w = (int)strlen(buf);
			if (x + w > COLS)
				w = COLS - x;
			tui_put(stdscr, 1, x, w, buf, i == t->view ?
			    tui_attr(t, TUI_C_SELECT) | A_BOLD : A_NORMAL);
			x += w + 1;
		}
		return;
	}
	for (y = 1; y < LINES - 2; y++) {
		i = (size_t)(y - 1);
		if (i < t->app->nviews) {
			v = t->app->views[i];
			snprintf(buf, sizeof(buf), "%*s%s", 1 + 2 * v->depth,
			    "", v->name);
			tui_put(stdscr, y, 0, TUI_TREE_W, buf, i == t->view ?
			    (t->focus == 0 ? tui_attr(t, TUI_C_SELECT) :
			    A_BOLD) : A_NORMAL);
		} else
			tui_put(stdscr, y, 0, TUI_TREE_W, "", A_NORMAL);
		mvaddch(y, TUI_TREE_W, ACS_VLINE);
	}
}

static void
draw_text(int y, int x, int w, int h, const char *text, size_t skip)
{
	const char *p = text;
	int row = 0;

	while (p != NULL && *p != '\0' && skip > 0) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
		skip--;
	}
	for (row = 0; row < h; row++) {
		tui_put(stdscr, y + row, x, w, p, A_NORMAL);
		if (p != NULL && (p = strchr(p, '\n')) != NULL)
			p++;
	}
}

static void
draw_body(struct tui *t)
{
	struct tui_view *v = tui_current(t);
	struct geom g;
	size_t i, rows;
	char *detail = NULL;
	int y, rc;

	geometry(t, &g);
	if (!v->loaded)
		load(t, v, 0);
	rows = (size_t)(g.list_h - 1);
	if (v->cur < v->top)
		v->top = v->cur;
	if (v->cur >= v->top + rows)
		v->top = v->cur - rows + 1;
	tui_put(stdscr, g.top, g.x, g.w, v->header, A_BOLD | A_UNDERLINE);
	for (i = 0; i < rows; i++) {
		y = g.top + 1 + (int)i;
		if (v->top + i < v->rows.n)
			tui_put(stdscr, y, g.x, g.w, v->rows.v[v->top + i].text,
			    v->top + i == v->cur ? (t->focus == 1 ?
			    tui_attr(t, TUI_C_SELECT) : A_BOLD) : A_NORMAL);
		else if (i == 0 && v->rows.n == 0)
			tui_put(stdscr, y, g.x, g.w, v->empty != NULL ?
			    v->empty : "(none)", A_DIM);
		else
			tui_put(stdscr, y, g.x, g.w, "", A_NORMAL);
	}
	mvhline(g.detail_y - 1, g.x, ACS_HLINE, g.w);
	if (v->rows.n > 0 && v->detail != NULL) {
		rc = v->detail(t, v, &v->rows.v[v->cur], &detail);
		if (rc != 0) {
			free(detail);
			detail = NULL;
			if (asprintf(&detail, "%s", cm_ctx_errmsg(t->ctx)) ==
			    -1)
				detail = NULL;
		}
	}
	draw_text(g.detail_y, g.x, g.w, g.detail_h, detail, 0);
	free(detail);
}

static void
draw_hints(struct tui *t)
{
	const struct tui_action *a;
	char buf[512] = "";
	size_t n;
	int i;

	for (i = 0; i < 2; i++) {
		a = i == 0 ? tui_current(t)->actions : t->app->global;
		for (; a != NULL && a->key != 0; a++)
			if (a->label != NULL) {
				n = strlen(buf);
				snprintf(buf + n, sizeof(buf) - n, "%s %s  ",
				    a->keyname, a->label);
			}
	}
	n = strlen(buf);
	snprintf(buf + n, sizeof(buf) - n, "? Help  q Quit");
	tui_put(stdscr, LINES - 1, 0, COLS, buf, tui_attr(t, TUI_C_HEADER));
}

/* Draw the whole screen, below any dialog. */
void
tui_redraw(struct tui *t)
{
	char head[512];

	erase();
	snprintf(head, sizeof(head), " %s  %s", t->app->title, t->header);
	tui_put(stdscr, 0, 0, COLS, head, tui_attr(t, TUI_C_HEADER) | A_BOLD);
	if (LINES < 10 || COLS < 40) {
		tui_put(stdscr, 1, 0, COLS, "The terminal is too small: "
		    "40x10 at least, 80x24 or more is best.", A_BOLD);
		wnoutrefresh(stdscr);
		return;
	}
	draw_nav(t);
	draw_body(t);
	tui_put(stdscr, LINES - 2, 0, COLS, t->status, t->status_err ?
	    tui_attr(t, TUI_C_ERROR) : tui_attr(t, TUI_C_COMMAND));
	draw_hints(t);
	wnoutrefresh(stdscr);
	update_panels();
}

static void
help(struct tui *t)
{
	const struct tui_action *a;
	char *text = NULL;
	int i;

	tui_text_add(&text, "Keys of %s, %s", t->app->name,
	    tui_current(t)->name);
	tui_text_add(&text, "%s", "");
	for (i = 0; i < 2; i++) {
		a = i == 0 ? tui_current(t)->actions : t->app->global;
		for (; a != NULL && a->key != 0; a++)
			tui_text_add(&text, "  %-12s %s", a->keyname, a->help);
	}
	tui_text_add(&text, "%s", "");
	tui_text_add(&text, "  %-12s %s", "Up, Down", "move in the list "
	    "(or the tree)");
	tui_text_add(&text, "  %-12s %s", "PgUp, PgDn", "a page up or down");
	tui_text_add(&text, "  %-12s %s", "Home, End", "the first or the "
	    "last row");
	if (t->app->tabs) {
		tui_text_add(&text, "  %-12s %s", "Left, Right", "the tab "
		    "before or after");
		tui_text_add(&text, "  %-12s %s", "Tab, S-Tab", "the next tab, "
		    "the tab before");
		tui_text_add(&text, "  %-12s %s", "1 ... 9", "the tab of that "
		    "number");
	} else {
		tui_text_add(&text, "  %-12s %s", "Tab, S-Tab", "between the "
		    "tree and the list");
		tui_text_add(&text, "  %-12s %s", "Left, Right", "to the tree, "
		    "to the list");
	}
	tui_text_add(&text, "  %-12s %s", "Enter", "show the row in full "
	    "(or the action bound to Enter)");
	tui_text_add(&text, "  %-12s %s", "F5", "reload the list");
	tui_text_add(&text, "  %-12s %s", "?, F1", "this help");
	tui_text_add(&text, "  %-12s %s", "q, F10", "quit");
	tui_pager(t, "Help", text);
	free(text);
}

static const struct tui_action *
find_action(struct tui *t, int key)
{
	const struct tui_action *a;
	int i;

	for (i = 0; i < 2; i++) {
		a = i == 0 ? tui_current(t)->actions : t->app->global;
		for (; a != NULL && a->key != 0; a++)
			if (a->key == key)
				return a;
	}
	return NULL;
}

/*
 * Run an action on a copy of the current row: a dialog of the action may
 * reload the list (a login does), which frees the rows.
 */
static void
run_action(struct tui *t, const struct tui_action *a)
{
	struct tui_view *v = tui_current(t);
	struct tui_row copy, *row = NULL;

	memset(&copy, 0, sizeof(copy));
	if (v->rows.n > 0 && v->cur < v->rows.n) {
		copy.id = v->rows.v[v->cur].id;
		copy.key = strdup(v->rows.v[v->cur].key);
		copy.text = strdup(v->rows.v[v->cur].text);
		if (v->rows.v[v->cur].aux != NULL)
			copy.aux = strdup(v->rows.v[v->cur].aux);
		if (copy.key == NULL || copy.text == NULL ||
		    (v->rows.v[v->cur].aux != NULL && copy.aux == NULL)) {
			tui_status(t, "out of memory");
			goto out;
		}
		row = &copy;
	}
	if (a->needs_row && row == NULL) {
		tui_status(t, "%s: the list is empty", v->name);
		t->status_err = 1;
		goto out;
	}
	a->fn(t, v, row);
out:
	free(copy.key);
	free(copy.text);
	free(copy.aux);
}

static void
show_row(struct tui *t)
{
	struct tui_view *v = tui_current(t);
	char *text = NULL;
	int rc;

	if (v->rows.n == 0 || v->detail == NULL)
		return;
	if ((rc = v->detail(t, v, &v->rows.v[v->cur], &text)) != 0)
		tui_error(t, rc);
	else
		tui_pager(t, v->rows.v[v->cur].key, text);
	free(text);
}

static void
switch_view(struct tui *t, long d)
{
	long n = (long)t->app->nviews, i = (long)t->view + d;

	if (t->app->tabs)
		i = ((i % n) + n) % n;
	else if (i < 0 || i >= n)
		return;
	tui_select(t, t->app->views[i]);
}

/*
 * The terminal's size, asked of the terminal itself: a resize whose
 * signal came while a dialog was closing is not missed.
 */
static void
tui_size_check(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0 && is_term_resized(ws.ws_row, ws.ws_col))
		resizeterm(ws.ws_row, ws.ws_col);
}

/* The main loop, until q or F10. */
void
tui_run(struct tui *t)
{
	struct tui_view *v;
	const struct tui_action *a;
	wint_t k;
	int r, key;

	tui_select(t, tui_current(t));
	while (!t->quit) {
		tui_size_check();
		tui_redraw(t);
		doupdate();
		v = tui_current(t);
		if ((r = tui_getkey(stdscr, &k)) == ERR)
			continue;
		t->form_err = 0;
		key = 0;
		if (r == KEY_CODE_YES) {
			switch (k) {
			case KEY_RESIZE:
				continue;
			case KEY_UP:
				if (t->focus == 0)
					switch_view(t, -1);
				else
					cursor_move(t, v, -1);
				continue;
			case KEY_DOWN:
				if (t->focus == 0)
					switch_view(t, 1);
				else
					cursor_move(t, v, 1);
				continue;
			case KEY_NPAGE:
				cursor_move(t, v, (long)page_rows(t));
				continue;
			case KEY_PPAGE:
				cursor_move(t, v, -(long)page_rows(t));
				continue;
			case KEY_HOME:
				load(t, v, 0);
				continue;
			case KEY_END:
				if (v->paged)
					load(t, v, 1);
				else if (v->rows.n > 0)
					v->cur = v->rows.n - 1;
				continue;
			case KEY_LEFT:
				if (t->app->tabs)
					switch_view(t, -1);
				else
					t->focus = 0;
				continue;
			case KEY_RIGHT:
				if (t->app->tabs)
					switch_view(t, 1);
				else
					t->focus = 1;
				continue;
			case KEY_BTAB:
				if (t->app->tabs)
					switch_view(t, -1);
				else
					t->focus = !t->focus;
				continue;
			case KEY_ENTER:
				key = TUI_KEY_ENTER;
				break;
			case KEY_DC:
				key = TUI_KEY_DELETE;
				break;
			case KEY_F(1):
				help(t);
				continue;
			case KEY_F(5):
				tui_refresh(t, v);
				continue;
			case KEY_F(10):
				t->quit = 1;
				continue;
			default:
				if (k >= KEY_F(1) && k <= KEY_F(12))
					key = TUI_KEY_F((int)(k - KEY_F0));
				break;
			}
		} else if (k == L'\t') {
			if (t->app->tabs)
				switch_view(t, 1);
			else
				t->focus = !t->focus;
			continue;
		} else if (k == L'\n')
			key = TUI_KEY_ENTER;
		else if (k == L'?') {
			help(t);
			continue;
		} else if (k == L'q') {
			t->quit = 1;
			continue;
		} else if (t->app->tabs && k >= L'1' && k <= L'9' &&
		    (size_t)(k - L'1') < t->app->nviews) {
			tui_select(t, t->app->views[k - L'1']);
			continue;
		} else
			key = (int)k;
		if (key == TUI_KEY_ENTER && t->focus == 0) {
			t->focus = 1;
			continue;
		}
		if ((a = find_action(t, key)) != NULL)
			run_action(t, a);
		else if (key == TUI_KEY_ENTER)
			show_row(t);
	}
}
