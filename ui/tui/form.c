/*
 * form.c: modal dialogs over the screen (panels): forms with inline
 * validation (the form library), a masked secret field, messages, yes/no
 * questions, choice menus (the menu library) and a text pager.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <form.h>
#include <menu.h>
#include <panel.h>

#include "tui-int.h"

/* A framed window centred on the screen, in a panel. */
struct dialog {
	WINDOW	*win;
	PANEL	*panel;
	int	 h, w;
};

static int
dialog_open(struct tui *t, struct dialog *d, int h, int w, const char *title)
{
	char buf[256];

	if (h > LINES)
		h = LINES;
	if (w > COLS)
		w = COLS;
	d->h = h;
	d->w = w;
	tui_redraw(t);
	if ((d->win = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2)) == NULL)
		return -1;
	if ((d->panel = new_panel(d->win)) == NULL) {
		delwin(d->win);
		return -1;
	}
	keypad(d->win, TRUE);
	wbkgd(d->win, (chtype)tui_attr(t, TUI_C_DIALOG));
	box(d->win, 0, 0);
	snprintf(buf, sizeof(buf), " %s ", title);
	tui_put(d->win, 0, 2, w - 4 > 0 ? (int)(strlen(buf) < (size_t)w - 4 ?
	    strlen(buf) : (size_t)w - 4) : 0, buf, A_BOLD);
	return 0;
}

static void
dialog_close(struct tui *t, struct dialog *d)
{
	if (d->panel != NULL)
		del_panel(d->panel);
	if (d->win != NULL) {
		werase(d->win);		/* a PIN may have been shown */
		delwin(d->win);
	}
	d->panel = NULL;
	d->win = NULL;
	tui_redraw(t);
}

static int
text_lines(const char *text, int *maxw)
{
	const char *p = text;
	int n = 0, w;

	*maxw = 0;
	while (p != NULL && *p != '\0') {
		const char *e = strchr(p, '\n');
		w = e != NULL ? (int)(e - p) : (int)strlen(p);
		if (w > *maxw)
			*maxw = w;
		n++;
		p = e != NULL ? e + 1 : NULL;
	}
	return n;
}

/* A full-screen text viewer: arrows, PgUp, PgDn, Home, End; q or Esc. */
void
tui_pager(struct tui *t, const char *title, const char *text)
{
	struct dialog d;
	const char *p;
	int n, maxw, top = 0, h, y, r;
	wint_t k;

	n = text_lines(text, &maxw);
	for (;;) {
		if (dialog_open(t, &d, LINES - 2, COLS - 2, title) == -1)
			return;
		h = d.h - 3;
		if (top > n - h)
			top = n - h;
		if (top < 0)
			top = 0;
		p = text;
		for (y = 0; p != NULL && y < top; y++)
			if ((p = strchr(p, '\n')) != NULL)
				p++;
		for (y = 0; y < h; y++) {
			tui_put(d.win, 1 + y, 1, d.w - 2, p, A_NORMAL);
			if (p != NULL && (p = strchr(p, '\n')) != NULL)
				p++;
		}
		tui_put(d.win, d.h - 2, 1, d.w - 2, n > h ? "Up, Down, PgUp, "
		    "PgDn: scroll   q, Esc, Enter: close" : "q, Esc, Enter: "
		    "close", A_DIM);
		update_panels();
		doupdate();
		r = tui_getkey(d.win, &k);
		dialog_close(t, &d);
		if (r == KEY_CODE_YES) {
			switch (k) {
			case KEY_UP:	top--; break;
			case KEY_DOWN:	top++; break;
			case KEY_PPAGE:	top -= h; break;
			case KEY_NPAGE:	top += h; break;
			case KEY_HOME:	top = 0; break;
			case KEY_END:	top = n; break;
			case KEY_ENTER:	return;
			case KEY_F(10):	return;
			default:	break;
			}
		} else if (r == OK && (k == L'q' || k == 27 || k == L'\n'))
			return;
		else if (r == OK && k == L' ')
			top += h;
	}
}

/*
 * Open a dialog of n text lines at least minw wide (maxw: the widest line)
 * with a footer line, and show it.  -1 when the terminal has no room.
 */
static int
text_dialog(struct tui *t, struct dialog *d, const char *title,
    const char *text, int n, int maxw, int minw, const char *footer,
    attr_t fattr)
{
	const char *p;
	int y;

	if (dialog_open(t, d, n + 4, maxw + 4 > minw ? maxw + 4 : minw,
	    title) == -1)
		return -1;
	for (y = 0, p = text; y < n; y++) {
		tui_put(d->win, 1 + y, 2, d->w - 4, p, A_NORMAL);
		if (p != NULL && (p = strchr(p, '\n')) != NULL)
			p++;
	}
	tui_put(d->win, d->h - 2, 2, d->w - 4, footer, fattr);
	update_panels();
	doupdate();
	return 0;
}

/* Show a message until a key is pressed. */
void
tui_message(struct tui *t, const char *title, const char *text)
{
	struct dialog d;
	int n, maxw, r;
	wint_t k;

	n = text_lines(text, &maxw);
	if (n + 4 > LINES - 2 || maxw + 4 > COLS) {
		tui_pager(t, title, text);
		return;
	}
	for (;;) {
		if (text_dialog(t, &d, title, text, n, maxw, 40,
		    "Enter: close", A_DIM) == -1)
			return;
		r = tui_getkey(d.win, &k);
		dialog_close(t, &d);
		if (r == KEY_CODE_YES && k == KEY_RESIZE)
			continue;
		if (r != ERR)
			return;
	}
}

/*
 * Show text while step(arg) runs again and again (each run waits a little
 * for something, such as a card): 1 when step is done (it returned 1), 0
 * when the officer pressed Esc, or step's error (negative).
 */
int
tui_wait(struct tui *t, const char *title, const char *text,
    int (*step)(void *), void *arg)
{
	struct dialog d;
	int n, maxw, r, rc = 0, open = 0;
	wint_t k;

	n = text_lines(text, &maxw);
	if (maxw > COLS - 6)
		maxw = COLS - 6;
	for (;;) {
		if (!open) {
			if (text_dialog(t, &d, title, text, n, maxw, 44,
			    "Esc: cancel", A_DIM) == -1)
				return 0;
			open = 1;
			wtimeout(d.win, 0);
		}
		if ((rc = step(arg)) != 0)
			break;
		r = tui_getkey(d.win, &k);
		if (r == KEY_CODE_YES && k == KEY_RESIZE) {
			wtimeout(d.win, -1);
			dialog_close(t, &d);
			open = 0;
			continue;
		}
		if (r == OK && k == 27)
			break;
	}
	wtimeout(d.win, -1);
	dialog_close(t, &d);
	return rc;
}

/* Ask a yes/no question; returns 1 for yes. */
int
tui_confirm(struct tui *t, const char *title, const char *text)
{
	struct dialog d;
	int n, maxw, r;
	wint_t k;

	n = text_lines(text, &maxw);
	if (maxw > COLS - 6)
		maxw = COLS - 6;
	for (;;) {
		if (text_dialog(t, &d, title, text, n, maxw, 44,
		    "y: yes   n, Esc: no", A_BOLD) == -1)
			return 0;
		r = tui_getkey(d.win, &k);
		dialog_close(t, &d);
		if (r == KEY_CODE_YES && k == KEY_RESIZE)
			continue;
		if (r == OK && (k == L'y' || k == L'Y'))
			return 1;
		if (r == OK && (k == L'n' || k == L'N' || k == 27))
			return 0;
	}
}

/* Choose one of n items; returns its index, or -1 on Esc. */
int
tui_menu(struct tui *t, const char *title, const char * const *items,
    size_t n, size_t cur)
{
	struct dialog d;
	ITEM **it;
	MENU *m;
	WINDOW *sub;
	size_t i;
	int w = (int)strlen(title) + 6, h, r, chosen = -1;
	wint_t k;

	if (n == 0)
		return -1;
	if ((it = calloc(n + 1, sizeof(*it))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		it[i] = new_item(items[i], "");
		if ((int)strlen(items[i]) + 6 > w)
			w = (int)strlen(items[i]) + 6;
	}
	if (w > COLS - 4)
		w = COLS - 4;
	for (;;) {
		h = (int)n + 4 < LINES - 4 ? (int)n + 4 : LINES - 4;
		if (dialog_open(t, &d, h, w, title) == -1)
			break;
		m = new_menu(it);
		sub = derwin(d.win, h - 3, w - 4, 1, 2);
		set_menu_win(m, d.win);
		set_menu_sub(m, sub);
		set_menu_format(m, h - 3, 1);
		set_menu_mark(m, "> ");
		set_menu_fore(m, (chtype)tui_attr(t, TUI_C_SELECT));
		post_menu(m);
		if (cur < n)
			set_current_item(m, it[cur]);
		tui_put(d.win, h - 2, 2, w - 4, "Enter: choose  Esc: cancel",
		    A_DIM);
		for (;;) {
			update_panels();
			doupdate();
			r = tui_getkey(d.win, &k);
			if (r == KEY_CODE_YES && k == KEY_RESIZE)
				break;
			if (r == KEY_CODE_YES && k == KEY_DOWN)
				menu_driver(m, REQ_DOWN_ITEM);
			else if (r == KEY_CODE_YES && k == KEY_UP)
				menu_driver(m, REQ_UP_ITEM);
			else if (r == KEY_CODE_YES && k == KEY_NPAGE)
				menu_driver(m, REQ_SCR_DPAGE);
			else if (r == KEY_CODE_YES && k == KEY_PPAGE)
				menu_driver(m, REQ_SCR_UPAGE);
			else if (r == KEY_CODE_YES && k == KEY_HOME)
				menu_driver(m, REQ_FIRST_ITEM);
			else if (r == KEY_CODE_YES && k == KEY_END)
				menu_driver(m, REQ_LAST_ITEM);
			else if ((r == OK && k == L'\n') ||
			    (r == KEY_CODE_YES && k == KEY_ENTER)) {
				chosen = item_index(current_item(m));
				break;
			} else if (r == OK && k == 27) {
				chosen = -2;
				break;
			}
		}
		cur = (size_t)item_index(current_item(m));
		unpost_menu(m);
		free_menu(m);
		delwin(sub);
		dialog_close(t, &d);
		if (chosen != -1)
			break;
	}
	for (i = 0; i < n; i++)
		free_item(it[i]);
	free(it);
	return chosen >= 0 ? chosen : -1;
}

/* The form being edited. */
struct fstate {
	struct tui		*t;
	struct tui_field	*f;
	size_t			 n;
	struct dialog		 d;
	FORM			*form;
	FIELD			**fields;	/* n + 1, NULL for notes */
	WINDOW			*sub;
	int			 labelw;
	char			 msg[512];
	int			 msg_err;
	/*
	 * What is typed into TUI_SECRET fields, one TUI_SECRET_MAX buffer a
	 * field.  The form library shows asterisks only: in ncursesw its
	 * field_buffer() leaves unwiped copies behind, so no secret goes
	 * through it.
	 */
	char			*sec;
};

#define TUI_SECRET_MAX	512

/* The text of field i, without the blanks the form pads it with. */
static void
field_value(struct fstate *s, size_t i, char *out, size_t len)
{
	const char *b;
	size_t n;

	out[0] = '\0';
	if (s->f[i].kind == TUI_NOTE)
		return;
	if (s->f[i].kind == TUI_SECRET) {
		b = s->sec + i * TUI_SECRET_MAX;
		n = strlen(b) < len ? strlen(b) : len - 1;
		memcpy(out, b, n);
		out[n] = '\0';
		return;
	}
	if (s->fields[i] == NULL || (b = field_buffer(s->fields[i], 0)) ==
	    NULL)
		return;
	while (*b == ' ')
		b++;
	n = strlen(b);
	while (n > 0 && b[n - 1] == ' ')
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

static void
form_teardown(struct fstate *s)
{
	size_t i;

	if (s->form != NULL) {
		unpost_form(s->form);
		free_form(s->form);
		s->form = NULL;
	}
	for (i = 0; s->fields != NULL && i < s->n; i++) {
		if (s->fields[i] == NULL)
			continue;
		free_field(s->fields[i]);
	}
	free(s->fields);
	s->fields = NULL;
	if (s->sub != NULL)
		delwin(s->sub);
	s->sub = NULL;
	dialog_close(s->t, &s->d);
}

static void
form_draw_msg(struct fstate *s)
{
	tui_put(s->d.win, s->d.h - 3, 2, s->d.w - 4, s->msg, s->msg_err ?
	    (attr_t)tui_attr(s->t, TUI_C_ERROR) : A_DIM);
	tui_put(s->d.win, s->d.h - 2, 2, s->d.w - 4, "Tab, Enter: next   "
	    "Space: choices   F2: submit   Esc: cancel", A_DIM);
}

static void
form_help(struct fstate *s)
{
	FIELD *cur = current_field(s->form);
	size_t i;

	s->msg_err = 0;
	s->msg[0] = '\0';
	for (i = 0; i < s->n; i++)
		if (s->fields[i] == cur && s->f[i].help != NULL)
			snprintf(s->msg, sizeof(s->msg), "%s", s->f[i].help);
	form_draw_msg(s);
}

/* Show as many asterisks as the secret of field i has characters. */
static void
secret_show(struct fstate *s, size_t i)
{
	char stars[TUI_SECRET_MAX];
	const char *p = s->sec + i * TUI_SECRET_MAX;
	size_t n = 0;

	for (; *p != '\0' && n < sizeof(stars) - 1; p++)
		if ((*p & 0xc0) != 0x80)	/* not a UTF-8 continuation */
			stars[n++] = '*';
	stars[n] = '\0';
	set_field_buffer(s->fields[i], 0, stars);
}

/* A key in a secret field: a character, Backspace or Ctrl-U. */
static void
secret_key(struct fstate *s, size_t i, int r, wint_t k)
{
	char *b = s->sec + i * TUI_SECRET_MAX, mb[MB_LEN_MAX];
	size_t len = strlen(b), n;
	mbstate_t st;

	if ((r == KEY_CODE_YES && k == KEY_BACKSPACE) || (r == OK &&
	    (k == 127 || k == 8))) {
		while (len > 0 && (b[len - 1] & 0xc0) == 0x80)
			b[--len] = '\0';
		if (len > 0)
			b[--len] = '\0';
	} else if (r == OK && k == 21)
		explicit_bzero(b, TUI_SECRET_MAX);
	else if (r == OK && k >= 32) {
		memset(&st, 0, sizeof(st));
		n = wcrtomb(mb, (wchar_t)k, &st);
		if (n != (size_t)-1 && len + n < TUI_SECRET_MAX)
			memcpy(b + len, mb, n);
		explicit_bzero(mb, sizeof(mb));
	}
	secret_show(s, i);
}

static int
form_build(struct fstate *s, const char *title, size_t cur)
{
	size_t i;
	int w, fw, row;

	s->labelw = 0;
	for (i = 0; i < s->n; i++)
		if (s->f[i].kind != TUI_NOTE &&
		    (int)strlen(s->f[i].label) > s->labelw)
			s->labelw = (int)strlen(s->f[i].label);
	s->labelw += 2;
	w = COLS - 4 < 100 ? COLS - 4 : 100;
	if (dialog_open(s->t, &s->d, (int)s->n + 5, w, title) == -1)
		return -1;
	fw = s->d.w - 4 - s->labelw;
	if (fw < 8)
		fw = 8;
	if ((s->fields = calloc(s->n + 1, sizeof(*s->fields))) == NULL)
		return -1;
	for (i = 0, row = 0; i < s->n; i++, row++) {
		if (s->f[i].kind == TUI_NOTE)
			continue;	/* drawn once the form is posted */
		tui_put(s->d.win, 1 + row, 2, s->labelw, s->f[i].label,
		    A_NORMAL);
		if ((s->fields[i] = new_field(1, fw, row, 0, 0, 0)) == NULL)
			return -1;
		set_field_back(s->fields[i], A_UNDERLINE);
		field_opts_off(s->fields[i], O_AUTOSKIP);
		switch (s->f[i].kind) {
		case TUI_SECRET:
			/* Typed into s->sec; the field shows asterisks. */
			field_opts_off(s->fields[i], O_EDIT);
			break;
		case TUI_CHOICE:
			field_opts_off(s->fields[i], O_EDIT);
			if (s->f[i].value[0] == '\0' &&
			    s->f[i].choices != NULL &&
			    s->f[i].choices[0] != NULL)
				snprintf(s->f[i].value, sizeof(s->f[i].value),
				    "%s", s->f[i].choices[0]);
			break;
		default:
			field_opts_off(s->fields[i], O_STATIC);
			set_max_field(s->fields[i],
			    (int)sizeof(s->f[i].value) - 1);
			break;
		}
		if (s->f[i].kind == TUI_SECRET)
			secret_show(s, i);
		else
			set_field_buffer(s->fields[i], 0, s->f[i].value);
	}
	/* The form library wants a dense array: notes are left out. */
	{
		FIELD **dense;
		size_t j = 0;

		if ((dense = calloc(s->n + 1, sizeof(*dense))) == NULL)
			return -1;
		for (i = 0; i < s->n; i++)
			if (s->fields[i] != NULL)
				dense[j++] = s->fields[i];
		if ((s->form = new_form(dense)) == NULL) {
			free(dense);
			return -1;
		}
		/* free_form() does not free the array: keep it with it. */
		set_form_userptr(s->form, dense);
	}
	s->sub = derwin(s->d.win, (int)s->n, fw, 1, 2 + s->labelw);
	set_form_win(s->form, s->d.win);
	set_form_sub(s->form, s->sub);
	if (s->sub == NULL || post_form(s->form) != E_OK) {
		tui_status(s->t, "%s: the terminal is too small for this form",
		    title);
		tui_status_error(s->t);
		return -1;
	}
	for (i = 0; i < s->n; i++)
		if (s->f[i].kind == TUI_NOTE)
			tui_put(s->d.win, 1 + (int)i, 2, s->d.w - 4,
			    s->f[i].label, A_BOLD);
	if (s->fields[cur] != NULL)
		set_current_field(s->form, s->fields[cur]);
	curs_set(1);
	form_help(s);
	if (s->t->form_err) {
		/* A refusal the form is asked again after. */
		snprintf(s->msg, sizeof(s->msg), "%.500s", s->t->status);
		s->msg_err = 1;
		form_draw_msg(s);
	}
	return 0;
}

static size_t
cur_index(struct fstate *s)
{
	FIELD *cur = current_field(s->form);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->fields[i] == cur)
			return i;
	return 0;
}

/* Check field i; on a fault say why on the form's message line. */
static int
field_check(struct fstate *s, size_t i)
{
	char v[512], err[400] = "";

	if (s->fields[i] == NULL)
		return 0;
	form_driver_w(s->form, KEY_CODE_YES, REQ_VALIDATION);
	field_value(s, i, v, sizeof(v));
	if (v[0] == '\0' && s->f[i].required)
		snprintf(err, sizeof(err), "%s: a value is required",
		    s->f[i].label);
	else if (v[0] != '\0' && s->f[i].check != NULL &&
	    s->f[i].check(s->t, v, err, sizeof(err)) != 0 && err[0] == '\0')
		snprintf(err, sizeof(err), "%s: not valid", s->f[i].label);
	explicit_bzero(v, sizeof(v));
	if (err[0] == '\0')
		return 0;
	set_current_field(s->form, s->fields[i]);
	snprintf(s->msg, sizeof(s->msg), "%s", err);
	s->msg_err = 1;
	form_draw_msg(s);
	return -1;
}

static void
choice_step(struct fstate *s, size_t i, int d, wint_t letter)
{
	const char * const *c = s->f[i].choices;
	char v[512];
	size_t n = 0, at = 0, j;

	if (c == NULL)
		return;
	field_value(s, i, v, sizeof(v));
	for (n = 0; c[n] != NULL; n++)
		if (strcmp(c[n], v) == 0)
			at = n;
	if (n == 0)
		return;
	if (letter != 0) {
		for (j = 1; j <= n; j++)
			if ((wint_t)c[(at + j) % n][0] == letter) {
				at = (at + j) % n;
				break;
			}
	} else
		at = (at + n + (size_t)(d + (int)n)) % n;
	set_field_buffer(s->fields[i], 0, c[at]);
}

static void
choice_menu(struct fstate *s, size_t i)
{
	const char * const *c = s->f[i].choices;
	char v[512];
	size_t n, at = 0;
	int r;

	if (c == NULL)
		return;
	field_value(s, i, v, sizeof(v));
	for (n = 0; c[n] != NULL; n++)
		if (strcmp(c[n], v) == 0)
			at = n;
	curs_set(0);
	r = tui_menu(s->t, s->f[i].label, c, n, at);
	curs_set(1);
	if (r >= 0)
		set_field_buffer(s->fields[i], 0, c[r]);
	touchwin(s->d.win);
	update_panels();
}

static int
next_field(struct fstate *s, int d)
{
	size_t i = cur_index(s);

	/* Going back is always allowed; going on needs a valid field. */
	if (d > 0 && field_check(s, i) != 0)
		return -1;
	form_driver_w(s->form, KEY_CODE_YES, d > 0 ? REQ_NEXT_FIELD :
	    REQ_PREV_FIELD);
	form_driver_w(s->form, KEY_CODE_YES, REQ_END_LINE);
	form_help(s);
	return 0;
}

static size_t
last_field(struct fstate *s)
{
	size_t i, last = 0;

	for (i = 0; i < s->n; i++)
		if (s->fields[i] != NULL)
			last = i;
	return last;
}

/*
 * Edit a form.  Returns 1 when submitted (every field checked, values in
 * f[i].value) or 0 when cancelled.  Secret values are for the caller to
 * wipe with tui_form_wipe().
 */
int
tui_form(struct tui *t, const char *title, struct tui_field *f, size_t n)
{
	struct fstate s;
	size_t i, cur = 0;
	wint_t k;
	char msg[sizeof(s.msg)];
	int r, done = -1, msg_err;
	FIELD **dense;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.f = f;
	s.n = n;
	if ((s.sec = calloc(n, TUI_SECRET_MAX)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (f[i].kind == TUI_SECRET)
			snprintf(s.sec + i * TUI_SECRET_MAX, TUI_SECRET_MAX,
			    "%s", f[i].value);
	while (cur < n && f[cur].kind == TUI_NOTE)
		cur++;
	if (form_build(&s, title, cur) != 0)
		goto out;
	while (done == -1) {
		update_panels();
		doupdate();
		r = tui_getkey(s.d.win, &k);
		if (r == ERR)
			continue;
		s.t->form_err = 0;
		i = cur_index(&s);
		if (f[i].kind == TUI_SECRET && ((r == OK && (k >= 32 ||
		    k == 127 || k == 8 || k == 21)) || (r == KEY_CODE_YES &&
		    k == KEY_BACKSPACE))) {
			secret_key(&s, i, r, k);
			continue;
		}
		if (r == KEY_CODE_YES) {
			switch (k) {
			case KEY_RESIZE:
				/* What is typed reaches the buffer first. */
				form_driver_w(s.form, KEY_CODE_YES,
				    REQ_VALIDATION);
				for (cur = 0; cur < n; cur++)
					if (f[cur].kind != TUI_NOTE &&
					    f[cur].kind != TUI_SECRET)
						field_value(&s, cur,
						    f[cur].value,
						    sizeof(f[cur].value));
				cur = i;
				/* The message line, an error too, stays. */
				snprintf(msg, sizeof(msg), "%s", s.msg);
				msg_err = s.msg_err;
				dense = form_userptr(s.form);
				form_teardown(&s);
				free(dense);
				if (form_build(&s, title, cur) != 0)
					goto out;
				snprintf(s.msg, sizeof(s.msg), "%s", msg);
				s.msg_err = msg_err;
				form_draw_msg(&s);
				break;
			case KEY_DOWN:
				next_field(&s, 1);
				break;
			case KEY_UP:
			case KEY_BTAB:
				next_field(&s, -1);
				break;
			case KEY_LEFT:
				if (f[i].kind == TUI_CHOICE)
					choice_step(&s, i, -1, 0);
				else
					form_driver_w(s.form, KEY_CODE_YES,
					    REQ_PREV_CHAR);
				break;
			case KEY_RIGHT:
				if (f[i].kind == TUI_CHOICE)
					choice_step(&s, i, 1, 0);
				else
					form_driver_w(s.form, KEY_CODE_YES,
					    REQ_NEXT_CHAR);
				break;
			case KEY_HOME:
				form_driver_w(s.form, KEY_CODE_YES,
				    REQ_BEG_FIELD);
				break;
			case KEY_END:
				form_driver_w(s.form, KEY_CODE_YES,
				    REQ_END_LINE);
				break;
			case KEY_BACKSPACE:
				form_driver_w(s.form, KEY_CODE_YES,
				    REQ_DEL_PREV);
				break;
			case KEY_DC:
				form_driver_w(s.form, KEY_CODE_YES,
				    REQ_DEL_CHAR);
				break;
			case KEY_ENTER:
				if (i == last_field(&s))
					done = 1;
				else
					next_field(&s, 1);
				break;
			case KEY_F(2):
				done = 1;
				break;
			default:
				break;
			}
		} else if (k == 27)
			done = 0;
		else if (k == L'\t')
			next_field(&s, 1);
		else if (k == L'\n') {
			if (i == last_field(&s))
				done = 1;
			else
				next_field(&s, 1);
		} else if (k == 127 || k == 8)
			form_driver_w(s.form, KEY_CODE_YES, REQ_DEL_PREV);
		else if (k == 21)	/* ^U */
			form_driver_w(s.form, KEY_CODE_YES, REQ_CLR_FIELD);
		else if (f[i].kind == TUI_CHOICE) {
			if (k == L' ')
				choice_menu(&s, i);
			else
				choice_step(&s, i, 0, k);
		} else if (k >= 32)
			form_driver_w(s.form, OK, (wchar_t)k);
		if (done == 1) {
			/* Submit: every field is checked, in order. */
			for (i = 0; i < n; i++)
				if (field_check(&s, i) != 0) {
					done = -1;
					break;
				}
		}
	}
	if (done == 1)
		for (i = 0; i < n; i++)
			if (f[i].kind != TUI_NOTE)
				field_value(&s, i, f[i].value,
				    sizeof(f[i].value));
out:
	curs_set(0);
	dense = s.form != NULL ? form_userptr(s.form) : NULL;
	form_teardown(&s);
	free(dense);
	explicit_bzero(s.sec, n * TUI_SECRET_MAX);
	free(s.sec);
	return done == 1;
}

/* Wipe the secret values of a form. */
void
tui_form_wipe(struct tui_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].kind == TUI_SECRET)
			explicit_bzero(f[i].value, sizeof(f[i].value));
}

/*
 * Ask for a secret in a masked field (twice with confirm).  Returns 1 with
 * the secret in buf, or 0 when cancelled.
 */
int
tui_secret(struct tui *t, const char *prompt, int confirm, char *buf,
    size_t len)
{
	struct tui_field f[2];
	int ok = 0;

	memset(f, 0, sizeof(f));
	f[0].label = prompt;
	f[0].kind = TUI_SECRET;
	f[0].required = 1;
	f[1].label = "Again";
	f[1].kind = TUI_SECRET;
	f[1].required = 1;
	for (;;) {
		if (!tui_form(t, prompt, f, confirm ? 2 : 1))
			break;
		if (confirm && strcmp(f[0].value, f[1].value) != 0) {
			tui_message(t, prompt, "The two entries differ: type "
			    "them again.");
			tui_form_wipe(f, 2);
			continue;
		}
		if (strlen(f[0].value) < len) {
			memcpy(buf, f[0].value, strlen(f[0].value) + 1);
			ok = 1;
		}
		break;
	}
	tui_form_wipe(f, 2);
	return ok;
}
