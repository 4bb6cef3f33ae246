/*
 * rows.c: list rows and text buffers for views; no curses here.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

/* Append a row; text is a printf format.  Returns 0 or CM_ERR_NOMEM. */
int
tui_rows_add(struct tui_rows *r, int64_t id, const char *key,
    const char *fmt, ...)
{
	struct tui_row *nv;
	va_list ap;
	char *text = NULL;
	int n;

	if (r->n == r->cap) {
		if ((nv = reallocarray(r->v, r->cap ? r->cap * 2 : 32,
		    sizeof(*nv))) == NULL)
			return CM_ERR_NOMEM;
		r->v = nv;
		r->cap = r->cap ? r->cap * 2 : 32;
	}
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n == -1)
		return CM_ERR_NOMEM;
	r->v[r->n].id = id;
	r->v[r->n].text = text;
	r->v[r->n].aux = NULL;
	if ((r->v[r->n].key = strdup(key != NULL ? key : "")) == NULL) {
		free(text);
		return CM_ERR_NOMEM;
	}
	r->n++;
	return 0;
}

void
tui_rows_clear(struct tui_rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].key);
		free(r->v[i].text);
		free(r->v[i].aux);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Set the second key of the last row.  Returns 0 or CM_ERR_NOMEM. */
int
tui_rows_aux(struct tui_rows *r, const char *aux)
{
	if (r->n == 0)
		return CM_ERR_INTERNAL;
	free(r->v[r->n - 1].aux);
	if ((r->v[r->n - 1].aux = strdup(aux)) == NULL)
		return CM_ERR_NOMEM;
	return 0;
}

/* Append a formatted line to a growing text.  Returns 0 or CM_ERR_NOMEM. */
int
tui_text_add(char **text, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL, *nt;
	size_t old = *text != NULL ? strlen(*text) : 0;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n == -1)
		return CM_ERR_NOMEM;
	if ((nt = realloc(*text, old + (size_t)n + 2)) == NULL) {
		free(line);
		return CM_ERR_NOMEM;
	}
	memcpy(nt + old, line, (size_t)n);
	nt[old + (size_t)n] = '\n';
	nt[old + (size_t)n + 1] = '\0';
	*text = nt;
	free(line);
	return 0;
}

/*
 * Quote a word for the cmctl command shown on the status line, so it can
 * be pasted into a shell.  Returns a string to free, or NULL.
 */
char *
tui_shell_quote(const char *s)
{
	const char *p;
	char *out, *o;
	int plain = *s != '\0';

	for (p = s; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+%", *p) ==
		    NULL)
			plain = 0;
	if (plain)
		return strdup(s);
	if ((out = malloc(strlen(s) * 4 + 3)) == NULL)
		return NULL;
	o = out;
	*o++ = '\'';
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/*
 * A word quoted for the status line's cmctl command, in one of four
 * rotating buffers: good for the arguments of one tui_command() call.
 */
const char *
tui_q(const char *s)
{
	static char buf[4][1024];
	static int at;
	char *q;

	at = (at + 1) % 4;
	if ((q = tui_shell_quote(s != NULL ? s : "")) == NULL)
		return "?";
	snprintf(buf[at], sizeof(buf[at]), "%s", q);
	free(q);
	return buf[at];
}

/* A time for a list or a detail pane; "-" for none. */
char *
tui_when(time_t t, char *buf, size_t len)
{
	if (t == 0)
		snprintf(buf, len, "-");
	else
		cm_time_format(t, buf, len);
	return buf;
}
