/*
 * tui-int.h: what the files of ui/tui share; includes curses.
 */
#ifndef TUI_INT_H
#define TUI_INT_H

#include <curses.h>

#include "tui.h"

#define TUI_TREE_W	26	/* the AWB's tree */
#define TUI_ROWS_MAX	600	/* rows a paged view keeps */

enum {
	TUI_C_HEADER = 1,
	TUI_C_ERROR,
	TUI_C_SELECT,
	TUI_C_COMMAND,
	TUI_C_DIALOG
};

struct tui {
	struct cm_ctx		*ctx;
	const struct tui_app	*app;
	size_t			 view;
	int			 focus;		/* 0: tree, 1: list */
	int			 quit;
	int			 colour;
	char			 header[320];
	char			 status[1024];
	int			 status_err;
	int			 form_err;	/* the next form shows it */
	char			*secret;	/* the next get_secret answer */
};

/* tui.c */
void	tui_put(WINDOW *, int, int, int, const char *, attr_t);
attr_t	tui_attr(struct tui *, int);
int	tui_getkey(WINDOW *, wint_t *);

#endif /* TUI_INT_H */
